@testable import DeepPotential
import Foundation
import TesseraTestSupport
import Trajectory
import XCTest

/// Tables built at load (`pair_style deepmd … compress`) against DeePMD-kit's `dp compress` and
/// against the networks they replace.
final class TabulationTests: XCTestCase {
  private func load(_ name: String) throws -> DeepPotentialModel {
    try DeepPotentialModel.load(path: ModelEditing.modelPath(name))
  }

  /// `cu_se_e2_a_compressed` is `dp --dp compress` of `cu_se_e2_a`: the same grid exactly, and the
  /// same coefficients up to the round-off of the network's derivatives (relative 1e-13 of the
  /// node values), amplified by 1/step^q in the coefficient of power q.
  func testSelfBuiltTableEqualsDpCompress() throws {
    let compressed = try load("cu_se_e2_a_compressed")
    let distance = try XCTUnwrap(compressed.minNeighborDistance)
    let built = try load("cu_se_e2_a").tabulated(TabulationSettings(minNeighborDistance: distance))
    let mine = try XCTUnwrap(built.tables?[0]), theirs = try XCTUnwrap(compressed.tables?[0])
    XCTAssertEqual([mine.lower, mine.upper, mine.maximum, mine.fineStep, mine.coarseStep],
                   [theirs.lower, theirs.upper, theirs.maximum, theirs.fineStep, theirs.coarseStep])
    XCTAssertEqual(mine.intervalCount, theirs.intervalCount)
    XCTAssertEqual(mine.coefficients.count, theirs.coefficients.count)
    let width = mine.width
    let fineCount = Int((mine.upper - mine.lower) / mine.fineStep)
    var worst = 0.0
    for l in 0..<mine.intervalCount {
      let step = l < fineCount ? mine.fineStep : mine.coarseStep
      // The size of the node data this interval's coefficients are made of.
      var scale = 0.0
      for m in 0..<width {
        for q in 0..<3 { scale = max(scale, abs(theirs.coefficients[(l * 6 + q) * width + m]) * pow(step, Double(q))) }
      }
      for q in 0..<6 {
        for m in 0..<width {
          let at = (l * 6 + q) * width + m
          worst = max(worst, abs(mine.coefficients[at] - theirs.coefficients[at]) * pow(step, Double(q)) / scale)
        }
      }
    }
    XCTAssertLessThan(worst, 1e-13, "largest coefficient difference, relative to the node data")
    // Not vacuous: a table built with another min_nbor_dist has another grid.
    let other = try load("cu_se_e2_a").tabulated(TabulationSettings(minNeighborDistance: 1.5))
    XCTAssertNotEqual(other.tables?[0]?.upper, theirs.upper)
  }

  /// The report bounds the table against the network, and sees a coarser table's larger error.
  func testTabulationErrorIsReported() throws {
    let compressed = try load("cu_se_e2_a_compressed")
    let report = try XCTUnwrap(compressed.tabulationReport())
    XCTAssertEqual(report.tableCount, 1)
    XCTAssertEqual(report.checkedCount, 1)
    XCTAssertEqual(report.intervalCount, 1220)
    XCTAssertGreaterThan(report.valueError, 0)
    XCTAssertLessThan(report.valueError, 1e-10)
    XCTAssertLessThan(report.slopeError, 1e-8)
    let coarse = try load("cu_se_e2_a").tabulated(TabulationSettings(stride: 0.1, minNeighborDistance: 2.0))
    let coarseReport = try XCTUnwrap(coarse.tabulationReport())
    XCTAssertGreaterThan(coarseReport.valueError, 100 * report.valueError)
    XCTAssertNil(try load("cu_se_e2_a").tabulationReport())
  }

  func testMissingMinimumDistanceIsAnError() throws {
    XCTAssertThrowsError(try load("cu_se_e2_a").tabulated(TabulationSettings())) { error in
      XCTAssertTrue("\(error)".contains("does not record min_nbor_dist"), "\(error)")
    }
  }

  /// Every reference configuration of the trained models (one- and two-sided embeddings) with tables
  /// built at load: forces within 1e-6 eV/Å of DeePMD-kit's uncompressed results, energies within
  /// 1e-6 eV.
  func testSelfBuiltTablesReproduceTheUncompressedModels() throws {
    for (name, distance) in [("cu_se_e2_a", 2.0129867224877644), ("cuau_se_e2_a", 2.0)] {
      let model = try load(name).tabulated(TabulationSettings(minNeighborDistance: distance))
      let report = try XCTUnwrap(model.tabulationReport())
      XCTAssertLessThan(report.valueError, 1e-9, name)
      let evaluator = DeepPotentialEvaluator(model: model)
      let frames = try ExtendedXYZ.read(contentsOf: inputPath("models/\(name)/fixtures/reference.xyz"))
      XCTAssertEqual(frames.count, 7)
      for frame in frames {
        let label = frame.label(model: name)
        let result = try evaluator.evaluate(frame, typeMap: model.typeMap)
        guard case .double(let energy)? = frame.info["energy"],
              case .reals(let forces)? = frame.property(named: "forces")?.values else {
          return XCTFail("\(label): reference incomplete")
        }
        XCTAssertEqual(result.energy, energy, accuracy: 1e-6, label)
        XCTAssertEqual(forces.count, 3 * frame.atomCount, "\(label): reference forces")
        XCTAssertEqual(result.forces.count, forces.count, "\(label): forces")
        let worst = zip(result.forces, forces).map { abs($0 - $1) }.max() ?? .nan
        XCTAssertLessThan(worst, 1e-6, "\(label): largest force difference (eV/Å)")
      }
    }
  }

  /// G, dG/ds and d²G/ds² of the forward-mode pass against central differences of the network,
  /// for every activation of the variant models.
  func testNetworkDerivativesMatchFiniteDifferences() throws {
    let root = inputPath("models/variants")
    let names = try FileManager.default.contentsOfDirectory(atPath: root).filter { !$0.hasSuffix(".md") }.sorted()
    for name in names + ["cu"] {
      let path = name == "cu" ? ModelEditing.modelPath("cu_se_e2_a") : "\(root)/\(name)/\(name).dp"
      let model = try DeepPotentialModel.load(path: path)
      for network in model.embeddings.compactMap({ $0 }) {
        for s in stride(from: -1.3, through: 2.9, by: 0.37) {
          let h = 1e-4
          let centre = network.derivatives(at: s), plus = network.derivatives(at: s + h), minus = network.derivatives(at: s - h)
          for m in 0..<network.outputWidth {
            let first = (plus.value[m] - minus.value[m]) / (2 * h)
            let second = (plus.first[m] - minus.first[m]) / (2 * h)
            XCTAssertEqual(centre.first[m], first, accuracy: 1e-6 * max(1, abs(first)), "\(name) G' at \(s)")
            XCTAssertEqual(centre.second[m], second, accuracy: 1e-5 * max(1, abs(second)), "\(name) G'' at \(s)")
          }
        }
      }
    }
  }
}

/// The fused table kernels (embedding made inside the contraction and its gradient) against the
/// stored path (tables written out per neighbour, contracted through BLAS), on self-built tables of
/// every model and variant: one- and two-sided, exclusions, several types, M1 of 4, 8 and 100.
final class FusedTableTests: XCTestCase {
  func testFusedKernelsMatchStoredEmbeddings() throws {
    let root = inputPath("models/variants")
    let variants = try FileManager.default.contentsOfDirectory(atPath: root).filter { !$0.hasSuffix(".md") }.sorted()
    let cases = [("cu_se_e2_a", ModelEditing.modelPath("cu_se_e2_a"), "models/cu_se_e2_a/fixtures/reference.xyz"),
                 ("cuau_se_e2_a", ModelEditing.modelPath("cuau_se_e2_a"), "models/cuau_se_e2_a/fixtures/reference.xyz")]
      + variants.map { ($0, "\(root)/\($0)/\($0).dp", "models/variants/\($0)/reference.xyz") }
    for (name, path, frames) in cases {
      let model = try DeepPotentialModel.load(path: path).tabulated(TabulationSettings(minNeighborDistance: 0.9))
      let fused = DeepPotentialEvaluator(model: model), stored = DeepPotentialEvaluator(model: model, fusingTables: false)
      // Four outputs at a time: an M1 that is not a multiple of four keeps the stored path.
      XCTAssertEqual(fused.fusedTables != nil, model.embeddingWidth % 4 == 0, name)
      XCTAssertNil(stored.fusedTables, name)
      for frame in try ExtendedXYZ.read(contentsOf: inputPath(frames)) {
        let a = try fused.evaluate(frame, typeMap: model.typeMap)
        let b = try stored.evaluate(frame, typeMap: model.typeMap)
        let label = frame.label(model: name)
        XCTAssertEqual(a.energy, b.energy, accuracy: 1e-12 * max(1, abs(b.energy)), label)
        let scale = max(1, b.forces.map(abs).max() ?? 0)
        XCTAssertLessThan(maxAbsoluteDifference(a.forces, b.forces), 1e-12 * scale, "\(label): forces")
        XCTAssertLessThan(maxAbsoluteDifference(a.virial, b.virial), 1e-12 * max(1, b.virial.map(abs).max()!), "\(label): virial")
      }
    }
  }
}
