@testable import DeepPotential
import DeepPotentialEngine
import Foundation
import TesseraTestSupport
import XCTest

/// Forces and virials are the exact derivatives of the energy: central differences of the model's
/// own energy on a distorted triclinic cell small enough that atoms see their own images.
final class FiniteDifferenceTests: XCTestCase {
  /// An fcc cell of 4 atoms (a₀ 3.7 Å) sheared into a triclinic cell, atoms displaced.
  func distortedCell(typeCount: Int) -> (positions: [Double], types: [Int32], cell: [Double]) {
    let a = 3.7
    let cell = [a, 0, 0, 0.31, a * 1.04, 0, -0.27, 0.42, a * 0.97]
    let fractional: [[Double]] = [[0, 0, 0], [0, 0.5, 0.5], [0.5, 0, 0.5], [0.5, 0.5, 0]]
    let shifts: [[Double]] = [[0.11, -0.07, 0.05], [-0.04, 0.13, -0.09], [0.08, 0.02, -0.12], [-0.1, -0.06, 0.07]]
    var positions: [Double] = []
    for (f, s) in zip(fractional, shifts) {
      for c in 0..<3 { positions.append(f[0] * cell[c] + f[1] * cell[3 + c] + f[2] * cell[6 + c] + s[c]) }
    }
    return (positions, (0..<4).map { Int32($0 % typeCount) }, cell)
  }

  func checkDerivatives(modelPath: String, file: StaticString = #filePath, line: UInt = #line) throws {
    let model = try DeepPotentialModel.load(path: modelPath)
    let evaluator = DeepPotentialEvaluator(model: model)
    let (x, types, cell) = distortedCell(typeCount: model.typeCount)
    let result = try evaluator.evaluate(positions: x, types: types, cell: cell)
    func energy(_ x: [Double], _ cell: [Double]) throws -> Double {
      try evaluator.evaluate(positions: x, types: types, cell: cell).energy
    }
    let h = 1e-5
    let scale = max(1, result.forces.map(abs).max()!)
    for k in 0..<x.count {
      var plus = x, minus = x
      plus[k] += h
      minus[k] -= h
      let numeric = -(try energy(plus, cell) - energy(minus, cell)) / (2 * h)
      XCTAssertEqual(result.forces[k], numeric, accuracy: 1e-7 * scale, "force component \(k)", file: file, line: line)
    }
    // W[α][β] = −∂E/∂ε_αβ under r_α → r_α + Σ_β ε_αβ r_β (positions and cell vectors alike).
    let virialScale = max(1, result.virial.map(abs).max()!)
    for alpha in 0..<3 {
      for beta in 0..<3 {
        func strained(_ e: Double) throws -> Double {
          var y = x, c = cell
          for i in 0..<(x.count / 3) { y[3 * i + alpha] += e * x[3 * i + beta] }
          for v in 0..<3 { c[3 * v + alpha] += e * cell[3 * v + beta] }
          return try energy(y, c)
        }
        let numeric = -(try strained(h) - strained(-h)) / (2 * h)
        XCTAssertEqual(result.virial[3 * alpha + beta], numeric, accuracy: 1e-7 * virialScale,
                       "virial \(alpha)\(beta)", file: file, line: line)
      }
    }
    // Sum rules: per-atom energies and virials add up; forces sum to zero.
    XCTAssertEqual(result.atomEnergies.reduce(0, +), result.energy, accuracy: 1e-12 * max(1, abs(result.energy)))
    for c in 0..<9 {
      let sum = stride(from: c, to: result.atomVirials.count, by: 9).map { result.atomVirials[$0] }.reduce(0, +)
      XCTAssertEqual(sum, result.virial[c], accuracy: 1e-12 * virialScale)
    }
    for c in 0..<3 {
      let total = stride(from: c, to: result.forces.count, by: 3).map { result.forces[$0] }.reduce(0, +)
      XCTAssertEqual(total, 0, accuracy: 1e-12 * scale)
    }
  }

  func testCopper() throws { try checkDerivatives(modelPath: ModelEditing.modelPath("cu_se_e2_a")) }
  func testCompressedCopper() throws { try checkDerivatives(modelPath: ModelEditing.modelPath("cu_se_e2_a_compressed")) }
  func testCopperGold() throws { try checkDerivatives(modelPath: ModelEditing.modelPath("cuau_se_e2_a")) }

  /// Variants of the two-type model a DeePMD-kit user can train: exclusions at every level and a
  /// protected environment matrix.
  func testModelVariants() throws {
    let variants: [(String, JSONValue)] = [
      ("model.descriptor.exclude_types", .array([.array([.number(0), .number(1)])])),
      ("model.pair_exclude_types", .array([.array([.number(1), .number(1)])])),
      ("model.atom_exclude_types", .array([.number(1)])),
      ("model.descriptor.env_protection", .number(0.4)),
    ]
    let reference = try DeepPotentialEvaluator(model: .load(path: ModelEditing.modelPath("cuau_se_e2_a")))
    let (x, types, cell) = distortedCell(typeCount: 2)
    let baseline = try reference.evaluate(positions: x, types: types, cell: cell).energy
    for (key, value) in variants {
      let path = try ModelEditing.copy("cuau_se_e2_a") { $0[path: key] = value }
      try checkDerivatives(modelPath: path)
      let changed = try DeepPotentialEvaluator(model: .load(path: path)).evaluate(positions: x, types: types, cell: cell)
      XCTAssertNotEqual(changed.energy, baseline, "\(key) made no difference")
      if key == "model.atom_exclude_types" {
        for i in 0..<4 where types[i] == 1 { XCTAssertEqual(changed.atomEnergies[i], 0) }
      }
    }
  }
}
