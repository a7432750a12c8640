import DeepPotential
import DeepPotentialEngine
import Foundation
import TesseraTestSupport
import Trajectory
import XCTest

/// Single points in cells and clusters that the reference configurations do not have, checked
/// against DeePMD-kit's results for the same physical system: a crystal turned by an orthogonal
/// map has its forces and virials turned with it and its energies unchanged (the descriptors see
/// distances and angles only); the same lattice given by its vectors in another order, left-handed,
/// is the same crystal; a cluster next to a far-away copy of itself is two clusters.
final class SinglePointGeometryTests: XCTestCase {
  static let models = ["cu_se_e2_a", "cuag_se_atten_v2_l2"]
  /// The small cells, whose atoms see their own images several cells deep (the 108-atom ones cost
  /// seconds each in a debug build).
  static let configurations = ["small_box_4atoms", "tiny_triclinic_2atoms"]

  /// A rotation (z·y·x Euler angles 0.3, −0.7, 1.1), and the same followed by a reflection.
  static let rotation: [Double] = {
    func axis(_ k: Int, _ t: Double) -> [Double] {
      var m = [1.0, 0, 0, 0, 1, 0, 0, 0, 1]
      let (i, j) = ((k + 1) % 3, (k + 2) % 3)
      m[3 * i + i] = cos(t); m[3 * i + j] = -sin(t); m[3 * j + i] = sin(t); m[3 * j + j] = cos(t)
      return m
    }
    return product(axis(2, 0.3), product(axis(1, -0.7), axis(0, 1.1)))
  }()
  static let reflection = product(rotation, [1.0, 0, 0, 0, -1, 0, 0, 0, 1])

  func testTurnedAndReflectedCellsMatchTheTurnedReference() throws {
    for name in Self.models {
      let model = try DeepPotentialModel.load(path: ModelEditing.modelPath(name))
      let evaluator = DeepPotentialEvaluator(model: model)
      let frames = try Self.frames(of: name)
      for (label, map) in [("rotated", Self.rotation), ("rotated and reflected", Self.reflection)] {
        for frame in frames {
          let turned = Self.transformed(frame, by: map)
          XCTAssertNotEqual(turned.lattice?[1], 0, "the turned cell is not in LAMMPS's orientation")
          try assertEvaluation(evaluator, of: turned, matches: turned, typeMap: model.typeMap,
                               label: "\(frame.label(model: name)) \(label)")
        }
      }
    }
  }

  func testLatticeVectorsInAnotherOrderAreTheSameCrystal() throws {
    for name in Self.models {
      let model = try DeepPotentialModel.load(path: ModelEditing.modelPath(name))
      let evaluator = DeepPotentialEvaluator(model: model)
      for frame in try Self.frames(of: name) {
        let h = try XCTUnwrap(frame.lattice)
        for (order, handedness) in [([1, 2, 0], "cyclic, right-handed"), ([0, 2, 1], "b and c swapped, left-handed")] {
          var reordered = frame
          reordered.lattice = order.flatMap { h[3 * $0..<3 * $0 + 3] }
          try assertEvaluation(evaluator, of: reordered, matches: frame, typeMap: model.typeMap,
                               label: "\(frame.label(model: name)) \(handedness)")
        }
      }
    }
  }

  /// A copy 10⁵ Å away along every axis: the bounding box spans ~10¹⁴ cut-off-wide bins, which the
  /// neighbour list's bins must not allocate. The cluster's half must be DeePMD-kit's result for the
  /// cluster, the copy's half the copy evaluated alone (its shifted coordinates are rounded, so it
  /// is not quite the reference's cluster), energy and virial their sums.
  func testClusterAndAFarCopyAreTwoClusters() throws {
    for name in Self.models {
      let model = try DeepPotentialModel.load(path: ModelEditing.modelPath(name))
      let evaluator = DeepPotentialEvaluator(model: model)
      let reference = try XCTUnwrap(ExtendedXYZ.read(contentsOf: inputPath("models/\(name)/fixtures/reference.xyz"))
        .first { $0.info["config"] == .string("cluster_nopbc") })
      var copy = reference
      copy.positions = reference.positions.map { $0 + 1e5 }
      let alone = evaluatedFrame(copy, try evaluator.evaluate(copy, typeMap: model.typeMap))
      var pair = reference
      pair.species += copy.species
      pair.positions += copy.positions
      pair.arrays = reference.arrays.compactMap { property in
        guard case .reals(let values) = property.values,
              case .reals(let copied)? = alone.property(named: property.name)?.values else { return nil }
        return ExtendedXYZProperty(name: property.name, width: property.width, values: .reals(values + copied))
      }
      XCTAssertEqual(pair.arrays.count, 3, "\(name): forces, energies and atom_virial")
      guard case .double(let energy)? = reference.info["energy"], case .double(let copyEnergy)? = alone.info["energy"] else {
        return XCTFail("\(name): energy missing")
      }
      pair.info["energy"] = .double(energy + copyEnergy)
      let virials = (try XCTUnwrap(reference.matrix3x3("virial")), try XCTUnwrap(alone.matrix3x3("virial")))
      pair.setMatrix3x3(zip(virials.0, virials.1).map { $0 + $1 }, for: "virial")
      let result = try evaluator.evaluate(pair, typeMap: model.typeMap)
      assertMatches(evaluatedFrame(pair, result), reference: pair, label: "\(name) cluster and copy")
    }
  }

  func testCellFarSmallerThanTheCutoffIsRefused() throws {
    let evaluator = DeepPotentialEvaluator(model: try .load(path: ModelEditing.modelPath("cu_se_e2_a")))
    XCTAssertThrowsError(try evaluator.evaluate(positions: [0, 0, 0], types: [0], cell: [0.01, 0, 0, 0, 0.01, 0, 0, 0, 0.01])) {
      XCTAssert("\($0)".contains("reaches") && "\($0)".contains("atoms with images"), "\($0)")
    }
  }

  private func assertEvaluation(_ evaluator: DeepPotentialEvaluator, of frame: ExtendedXYZFrame,
                                matches reference: ExtendedXYZFrame, typeMap: [String], label: String) throws {
    let result = try evaluator.evaluate(frame, typeMap: typeMap)
    assertMatches(evaluatedFrame(frame, result), reference: reference, label: label)
  }

  static func frames(of name: String) throws -> [ExtendedXYZFrame] {
    let frames = try ExtendedXYZ.read(contentsOf: inputPath("models/\(name)/fixtures/reference.xyz"))
      .filter { frame in configurations.contains { frame.info["config"] == .string($0) } }
    XCTAssertEqual(frames.count, configurations.count, name)
    return frames
  }


  /// The reference frame mapped by the orthogonal `m`: positions, lattice vectors and forces m·v,
  /// virials m·W·mᵀ, energies unchanged.
  static func transformed(_ frame: ExtendedXYZFrame, by m: [Double]) -> ExtendedXYZFrame {
    func vectors(_ v: [Double]) -> [Double] {
      var out = [Double](repeating: 0, count: v.count)
      for k in stride(from: 0, to: v.count, by: 3) {
        for i in 0..<3 {
          for j in 0..<3 { out[k + i] += m[3 * i + j] * v[k + j] }
        }
      }
      return out
    }
    let transposed = (0..<9).map { m[3 * ($0 % 3) + $0 / 3] }
    func tensors(_ w: [Double]) -> [Double] {
      stride(from: 0, to: w.count, by: 9).flatMap { k in product(m, product(Array(w[k..<k + 9]), transposed)) }
    }
    var out = frame
    out.positions = vectors(frame.positions)
    out.lattice = frame.lattice.map(vectors)
    out.arrays = frame.arrays.map { property in
      guard case .reals(let values) = property.values else { return property }
      switch property.name {
      case "forces": return .init(name: property.name, width: 3, values: .reals(vectors(values)))
      case "atom_virial": return .init(name: property.name, width: 9, values: .reals(tensors(values)))
      default: return property
      }
    }
    if let virial = frame.matrix3x3("virial") { out.setMatrix3x3(tensors(virial), for: "virial") }
    return out
  }
}

/// The product of two 3×3 matrices, row-major.
private func product(_ a: [Double], _ b: [Double]) -> [Double] {
  var c = [Double](repeating: 0, count: 9)
  for i in 0..<3 {
    for j in 0..<3 {
      for k in 0..<3 { c[3 * i + j] += a[3 * i + k] * b[3 * k + j] }
    }
  }
  return c
}
