import DeepPotential
import DeepPotentialEngine
import Foundation
import TesseraTestSupport
import Trajectory
import XCTest

/// Every reference configuration of every model in `inputs/models/` (computed by DeePMD-kit 3.2.0,
/// see `inputs/models/README.md`): energy, per-atom energies, forces, virial and per-atom virials.
final class ReferenceFixtureTests: XCTestCase {
  static let models = ["cu_se_e2_a", "cu_se_e2_a_compressed", "cuau_se_e2_a"]

  func testLibraryMatchesDeePMDKit() throws {
    for name in Self.models {
      let model = try DeepPotentialModel.load(path: ModelEditing.modelPath(name))
      let evaluator = DeepPotentialEvaluator(model: model)
      let frames = try ExtendedXYZ.read(contentsOf: inputPath("models/\(name)/fixtures/reference.xyz"))
      XCTAssertEqual(frames.count, 7)
      for frame in frames {
        let result = try evaluator.evaluate(frame, typeMap: model.typeMap)
        assertMatches(evaluatedFrame(frame, result), reference: frame, label: frame.label(model: name))
        // dense_over_sel is the only configuration with more neighbours than sel.
        let overSel = frame.info["config"] == .string("dense_over_sel")
        XCTAssertEqual(result.overflowAtoms, overSel ? frame.atomCount : 0, "\(name) overflow count")
      }
    }
  }
}

/// `frame` as evaluated: energy, virial, forces, atomic energies and virials, named as DeePMD-kit's
/// reference files name them.
func evaluatedFrame(_ frame: ExtendedXYZFrame, _ result: SinglePointResult) -> ExtendedXYZFrame {
  var computed = ExtendedXYZFrame(species: frame.species, positions: frame.positions, lattice: frame.lattice,
                                  pbc: frame.pbc, info: ["energy": .double(result.energy)],
                                  arrays: [.init(name: "forces", width: 3, values: .reals(result.forces)),
                                           .init(name: "energies", width: 1, values: .reals(result.atomEnergies)),
                                           .init(name: "atom_virial", width: 9, values: .reals(result.atomVirials))])
  computed.setMatrix3x3(result.virial, for: "virial")
  return computed
}

/// Compares computed frames against DeePMD-kit's: each value to 1e-10 relative, or within 1e-12
/// (eV, eV/Å) of zero for the values symmetry makes vanish (forces in a perfect lattice).
func assertMatches(_ computed: ExtendedXYZFrame, reference: ExtendedXYZFrame, label: String,
                   file: StaticString = #filePath, line: UInt = #line) {
  func close(_ a: Double, _ b: Double) -> Bool { abs(a - b) <= 1e-10 * abs(b) + 1e-12 }
  guard case .double(let energy)? = computed.info["energy"], case .double(let expected)? = reference.info["energy"] else {
    return XCTFail("\(label): energy missing", file: file, line: line)
  }
  XCTAssertTrue(close(energy, expected), "\(label): energy \(energy) vs \(expected)", file: file, line: line)
  let virial = computed.matrix3x3("virial") ?? [], expectedVirial = reference.matrix3x3("virial") ?? []
  XCTAssertEqual(virial.count, 9, "\(label): virial missing", file: file, line: line)
  XCTAssertEqual(expectedVirial.count, 9, "\(label): reference virial missing", file: file, line: line)
  for (a, b) in zip(virial, expectedVirial) where !close(a, b) {
    XCTFail("\(label): virial \(virial) vs \(expectedVirial)", file: file, line: line)
    break
  }
  for name in ["forces", "energies", "atom_virial"] {
    guard case .reals(let values)? = computed.property(named: name)?.values,
          case .reals(let expectedValues)? = reference.property(named: name)?.values else {
      XCTFail("\(label): \(name) missing", file: file, line: line)
      continue
    }
    XCTAssertEqual(values.count, expectedValues.count, "\(label): \(name)", file: file, line: line)
    XCTAssertEqual(expectedValues.count % computed.atomCount, 0, "\(label): \(name) is not per atom", file: file, line: line)
    XCTAssertGreaterThan(expectedValues.count, 0, "\(label): \(name) is empty", file: file, line: line)
    let worst = zip(values, expectedValues).enumerated().first { !close($1.0, $1.1) }
    if let (k, (a, b)) = worst {
      XCTFail("\(label): \(name)[\(k)] \(a) vs \(b)", file: file, line: line)
    }
  }
}

/// `tessera eval` on the reference configurations, read back with the extended XYZ reader.
final class EvalCommandTests: XCTestCase {
  func testEvalMatchesDeePMDKit() throws {
    let directory = try makeScratchDirectory("eval")
    for name in ReferenceFixtureTests.models {
      let output = directory.appendingPathComponent("\(name).xyz").path
      let result = try runProcess(tesseraBinary, ["eval", "--model", ModelEditing.modelPath(name),
                                                   inputPath("models/\(name)/fixtures/configs.xyz"), "-o", output])
      XCTAssertEqual(result.status, 0, result.combined)
      // The dense configuration exceeds sel: said on standard error, not hidden.
      XCTAssertTrue(result.error.contains("WARNING:") && result.error.contains("than sel"), result.combined)
      let computed = try ExtendedXYZ.read(contentsOf: output)
      let reference = try ExtendedXYZ.read(contentsOf: inputPath("models/\(name)/fixtures/reference.xyz"))
      XCTAssertEqual(computed.count, reference.count)
      XCTAssertEqual(reference.count, 7, name)
      for (c, r) in zip(computed, reference) {
        assertMatches(c, reference: r, label: "eval \(name) \(r.info["config"].map { "\($0)" } ?? "?")")
        XCTAssertEqual(c.positions, r.positions)
      }
    }
  }

  func testEvalErrors() throws {
    let directory = try makeScratchDirectory("eval-errors")
    let frames = directory.appendingPathComponent("ag.xyz").path
    try "1\nLattice=\"3 0 0 0 3 0 0 0 3\" pbc=\"T T T\"\nAg 0 0 0\n".write(toFile: frames, atomically: true, encoding: .utf8)
    let model = ModelEditing.modelPath("cu_se_e2_a")
    let unknown = try runProcess(tesseraBinary, ["eval", "--model", model, frames])
    XCTAssertEqual(unknown.status, 1)
    XCTAssertTrue(unknown.error.contains("ag.xyz: frame 1: element 'Ag' is not in the model's type map (Cu)"), unknown.combined)
    // Renaming the model's type makes the same frame valid.
    let renamed = try runProcess(tesseraBinary, ["eval", "--model", model, "--type-map", "Ag", frames])
    XCTAssertEqual(renamed.status, 0, renamed.combined)
    XCTAssertTrue(renamed.output.contains("energy="), renamed.output)
    let missing = try runProcess(tesseraBinary, ["eval", "--model", "/nonexistent.dp", frames])
    XCTAssertEqual(missing.status, 1)
    XCTAssertTrue(missing.error.contains("/nonexistent.dp: cannot read the model file"), missing.combined)
    // A failed evaluation leaves no output file behind.
    let output = directory.appendingPathComponent("out.xyz").path
    _ = try runProcess(tesseraBinary, ["eval", "--model", model, frames, "-o", output])
    XCTAssertFalse(FileManager.default.fileExists(atPath: output))
  }
}

/// Synthetic models covering what the trained ones do not (every activation, type_one_side false,
/// exclusions at every level, env_protection, atom_ener, resnet_dt in the embedding, residual fitting
/// layers, anisotropic statistics, overflow), with DeePMD-kit's results (`inputs/models/variants/`).
final class VariantModelTests: XCTestCase {
  func testVariantsMatchDeePMDKit() throws {
    let root = inputPath("models/variants")
    let names = try FileManager.default.contentsOfDirectory(atPath: root).filter { !$0.hasSuffix(".md") }.sorted()
    XCTAssertEqual(names.count, 7)
    for name in names {
      let model = try DeepPotentialModel.load(path: "\(root)/\(name)/\(name).dp")
      let evaluator = DeepPotentialEvaluator(model: model)
      let frames = try ExtendedXYZ.read(contentsOf: "\(root)/\(name)/reference.xyz")
      XCTAssertEqual(frames.count, 3, name)
      for frame in frames {
        let label = frame.label(model: name)
        let result = try evaluator.evaluate(frame, typeMap: model.typeMap)
        guard case .double(let energy)? = frame.info["energy"],
              case .reals(let energies)? = frame.property(named: "energies")?.values,
              case .reals(let forces)? = frame.property(named: "forces")?.values,
              let virial = frame.matrix3x3("virial") else { return XCTFail("\(label): reference incomplete") }
        XCTAssertEqual(result.energy, energy, accuracy: 1e-10 * abs(energy) + 1e-12, label)
        // Counts first, as assertMatches checks them: zip would stop silently at the shorter array.
        XCTAssertEqual(energies.count, frame.atomCount, "\(label): reference energies")
        XCTAssertEqual(forces.count, 3 * frame.atomCount, "\(label): reference forces")
        XCTAssertEqual(virial.count, 9, "\(label): reference virial")
        XCTAssertEqual(result.atomEnergies.count, energies.count, "\(label): energies")
        XCTAssertEqual(result.forces.count, forces.count, "\(label): forces")
        XCTAssertEqual(result.virial.count, virial.count, "\(label): virial")
        for (a, b) in zip(result.atomEnergies, energies) { XCTAssertEqual(a, b, accuracy: 1e-10 * abs(b) + 1e-12, label) }
        // Forces and virials from finite differences of DeePMD-kit's energy are good to ~1e-9.
        let fromDifferences = frame.info["source"] == .string("numpy+fd")
        func tolerance(_ b: Double) -> Double { fromDifferences ? 1e-8 : 1e-10 * abs(b) + 1e-12 }
        for (k, (a, b)) in zip(result.forces, forces).enumerated() where abs(a - b) > tolerance(b) {
          XCTFail("\(label): force component \(k): \(a) vs \(b)")
          break
        }
        for (a, b) in zip(result.virial, virial) { XCTAssertEqual(a, b, accuracy: tolerance(b), "\(label): virial") }
        if case .reals(let atomVirials)? = frame.property(named: "atom_virial")?.values {
          XCTAssertEqual(atomVirials.count, 9 * frame.atomCount, "\(label): reference atom virials")
          XCTAssertEqual(result.atomVirials.count, atomVirials.count, "\(label): atom virials")
          for (a, b) in zip(result.atomVirials, atomVirials) { XCTAssertEqual(a, b, accuracy: tolerance(b), "\(label): atom virial") }
        }
        let overflow = frame.info["overflow"] == .bool(true)
        XCTAssertEqual(result.overflowAtoms > 0, overflow, "\(label): overflow \(result.overflowAtoms)")
      }
    }
  }
}
