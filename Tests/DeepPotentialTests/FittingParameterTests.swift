@testable import DeepPotential
import DeepPotentialEngine
import Foundation
import TesseraTestSupport
import Trajectory
import XCTest

/// Models trained with frame and atomic parameters (`inputs/models/cuag_fparam`, `cuag_fparam_b`,
/// `cuag_fparam2`: numb_fparam 1, 1, 2; `cuag_aparam`: numb_aparam 1; se_e2_a, trained and
/// evaluated by DeePMD-kit 3.2.0's PyTorch backend, the `.pb` converted and checked against the
/// references by its TensorFlow backend: tools/dpa1/make_fparam_fixtures.py). Every reference frame
/// carries the fparam/aparam DeePMD-kit evaluated it at; the library and `tessera eval` against
/// those references, finite differences, and the refusals DeePMD-kit makes.
final class FittingParameterTests: XCTestCase {
  static let models = ["cuag_fparam", "cuag_fparam_b", "cuag_fparam2", "cuag_aparam"]

  static func path(_ name: String, _ suffix: String = "dp") -> String { inputPath("models/\(name)/\(name).\(suffix)") }

  static func references(_ name: String) throws -> [ExtendedXYZFrame] {
    try ExtendedXYZ.read(contentsOf: inputPath("models/\(name)/fixtures/reference.xyz"))
  }

  func testLibraryMatchesDeePMDKitForDpAndPb() throws {
    for name in Self.models {
      for suffix in ["dp", "pb"] {
        let model = try DeepPotentialModel.load(path: Self.path(name, suffix))
        XCTAssertTrue(model.awaitsParameters, name)
        XCTAssertEqual(model.frameParameterCount, name == "cuag_aparam" ? 0 : name == "cuag_fparam2" ? 2 : 1, name)
        XCTAssertEqual(model.atomParameterCount, name == "cuag_aparam" ? 1 : 0, name)
        let frames = try Self.references(name)
        XCTAssertEqual(frames.count, 7, name)
        XCTAssertEqual(frames.last?.info["config"], .string("dense_over_sel"), name)
        // Beyond sel TensorFlow keeps other neighbours than PyTorch (whose selection Tessera follows for
        // both forms): the .pb is checked where no atom overflows (make_fparam_fixtures.py checks TensorFlow there).
        for frame in frames where suffix == "dp" || frame.info["config"] != .string("dense_over_sel") {
          let (fparam, aparam) = frame.parameters
          XCTAssertTrue(fparam != nil || aparam != nil, "\(name): the reference frame names its parameters")
          let bound = try model.withParameters(frame: fparam, atom: aparam)
          let result = try DeepPotentialEvaluator(model: bound).evaluate(frame, typeMap: model.typeMap)
          assertMatches(evaluatedFrame(frame, result), reference: frame, label: "\(frame.label(model: name)) .\(suffix)")
          // The parameters matter: another value moves the energy well beyond the tolerance.
          let other = try model.withParameters(frame: fparam.map { $0.map { $0 + 0.5 } }, atom: aparam.map { $0.map { $0 + 0.5 } })
          let shifted = try DeepPotentialEvaluator(model: other).evaluate(frame, typeMap: model.typeMap).energy
          XCTAssertGreaterThan(abs(shifted - result.energy), 1e-3, "\(frame.label(model: name)): the parameters change nothing")
        }
      }
    }
  }

  /// float32 networks fold the parameters alike: within SinglePrecisionTests' 1e-5 of the energy.
  func testFloat32FoldsTheParametersToo() throws {
    let model = try DeepPotentialModel.load(path: Self.path("cuag_fparam"))
    for frame in try Self.references("cuag_fparam") where frame.periodicCell != nil {
      let bound = try model.withParameters(frame: frame.parameters.frame, atom: nil)
      let single = try DeepPotentialEvaluator(model: bound, precision: .float32).evaluate(frame, typeMap: model.typeMap)
      guard case .double(let energy)? = frame.info["energy"] else { return XCTFail("energy missing") }
      XCTAssertEqual(single.energy, energy, accuracy: max(1e-5 * abs(energy), 1e-6 * Double(frame.atomCount)), frame.label(model: "float32"))
    }
  }

  func testForcesAndVirialAreDerivatives() throws {
    let cases: [(String, [Double]?, [Double]?)] = [("cuag_fparam", [0.8], nil), ("cuag_fparam2", [0.2, 1.1], nil),
                                                   ("cuag_aparam", nil, [0.6])]
    for (name, frame, atom) in cases {
      let model = try DeepPotentialModel.load(path: Self.path(name)).withParameters(frame: frame, atom: atom)
      let evaluator = DeepPotentialEvaluator(model: model)
      let (x, types, cell) = AttentionModelTests.distortedCell()
      try AttentionModelTests.checkDerivatives({ try evaluator.evaluate(positions: $0, types: types, cell: $1) },
                                               x: x, cell: cell, label: name)
    }
  }

  /// As DeePMD-kit: a model with numb_fparam needs its values (DeePMD-kit: "fparam should not be
  /// None" / "the dim of frame parameter provided is not consistent"), exactly numb_fparam of them
  /// (its plugin: "Illegal fparam, the dimension should be N" / "wrong number of parameters"), and a
  /// model without takes none ("wrong number of parameters").
  func testParameterCountsAreCheckedAsDeePMDKitDoes() throws {
    for suffix in ["dp", "pb"] {
      let fparam = try DeepPotentialModel.load(path: Self.path("cuag_fparam", suffix))
      let aparam = try DeepPotentialModel.load(path: Self.path("cuag_aparam", suffix))
      let cases: [(DeepPotentialModel, [Double]?, [Double]?, String)] = [
        (fparam, nil, nil, "needs 1 frame parameter(s) (numb_fparam 1, no default_fparam); give them: fparam V…"),
        (fparam, [0.3, 0.4], nil, "takes 1 frame parameter(s) (numb_fparam 1), but fparam gives 2"),
        (fparam, [], nil, "takes 1 frame parameter(s) (numb_fparam 1), but fparam gives 0"),
        (fparam, [0.3], [0.1], "takes no atomic parameters (numb_aparam 0), but aparam gives 1"),
        (aparam, nil, nil, "needs 1 atomic parameter(s) per atom (numb_aparam 1); give them: aparam V…"),
        (aparam, [0.3], [0.1], "takes no frame parameters (numb_fparam 0), but fparam gives 1"),
        (aparam, nil, [0.1, 0.2], "takes 1 atomic parameter(s) per atom (numb_aparam 1), but aparam gives 2"),
      ]
      for (model, frame, atom, message) in cases {
        XCTAssertThrowsError(try model.withParameters(frame: frame, atom: atom), message) { error in
          XCTAssertTrue("\(error)".contains(model.path) && "\(error)".contains(message), "'\(error)' lacks '\(message)'")
        }
      }
    }
    let plain = try DeepPotentialModel.load(path: inputPath("models/cu_se_e2_a/cu_se_e2_a.dp"))
    XCTAssertFalse(plain.awaitsParameters)
    XCTAssertThrowsError(try plain.withParameters(frame: [0.3], atom: nil)) { error in
      XCTAssertTrue("\(error)".contains("takes no frame parameters (numb_fparam 0), but fparam gives 1"), "\(error)")
    }
    // An empty `fparam` to a model without parameters is what DeePMD-kit's plugin accepts too.
    XCTAssertNil(try plain.withParameters(frame: [], atom: nil).parameterValues)
  }

  /// `default_fparam` (PyTorch models; TensorFlow has none) stands in for a missing fparam; the
  /// case embedding of multi-task models stays refused; so do parameters with other descriptors.
  func testDefaultFparamAndRefusedFittingKeys() throws {
    let frame = try Self.references("cuag_fparam")[1]
    let value = try XCTUnwrap(frame.parameters.frame)
    let edited = try ModelEditing.copy("cuag_fparam") { $0[path: "model.fitting.default_fparam"] = .array(value.map { .number($0) }) }
    let model = try DeepPotentialModel.load(path: edited)
    let byDefault = try DeepPotentialEvaluator(model: model.withParameters(frame: nil, atom: nil)).evaluate(frame, typeMap: model.typeMap)
    assertMatches(evaluatedFrame(frame, byDefault), reference: frame, label: "default_fparam")
    let cases: [(String, String, JSONValue, [String])] = [
      ("cuag_fparam", "model.fitting.dim_case_embd", .number(2), ["model.fitting.dim_case_embd", "dim_case_embd > 0"]),
      ("cuag_fparam", "model.fitting.use_aparam_as_mask", .bool(true), ["model.fitting.use_aparam_as_mask"]),
      ("cuag_fparam", "model.fitting.@variables.fparam_avg", .null, ["model.fitting.@variables.fparam_avg"]),
      ("cuag_fparam", "model.fitting.default_fparam", .array([.number(1), .number(2)]), ["default_fparam has 2 values"]),
      ("cuag_se_e2_r", "model.fitting.numb_aparam", .number(1), ["model.fitting.numb_aparam", "se_e2_a models only"]),
    ]
    for (name, key, value, expected) in cases {
      let path = try ModelEditing.copy(name) { $0[path: key] = value }
      XCTAssertThrowsError(try DeepPotentialModel.load(path: path), key) { error in
        for fragment in [path] + expected { XCTAssertTrue("\(error)".contains(fragment), "'\(error)' lacks '\(fragment)'") }
      }
    }
    // The graph `dp convert-backend` writes from the trained .dp itself: TensorFlow would scale its energies by out_std.
    let scaled = inputPath("models/cuag_fparam/cuag_fparam_out_std.pb")
    XCTAssertThrowsError(try DeepPotentialModel.load(path: scaled)) { error in
      XCTAssertTrue("\(error)".contains("\(scaled): node 'model_attr/model_attr/t_out_std'")
                      && "\(error)".contains("an output scale other than 1 is not supported"), "\(error)")
    }
  }

  /// `tessera eval --fparam` / `--aparam`, one run per reference frame (each has its own values).
  func testEvalMatchesDeePMDKit() throws {
    for name in ["cuag_fparam2", "cuag_aparam"] {
      let dir = try makeScratchDirectory("eval-\(name)")
      for (k, frame) in try Self.references(name).enumerated() {
        let input = dir.appendingPathComponent("frame\(k).xyz").path, output = dir.appendingPathComponent("out\(k).xyz").path
        try ExtendedXYZ.write([frame], to: input)
        let (fparam, aparam) = frame.parameters
        var options: [String] = []
        if let fparam { options += ["--fparam", fparam.map { "\($0)" }.joined(separator: ",")] }
        if let aparam { options += ["--aparam", aparam.map { "\($0)" }.joined(separator: ",")] }
        let result = try runProcess(tesseraBinary, ["eval", "--model", Self.path(name, k % 2 == 0 ? "dp" : "pb")] + options
                                      + [input, "-o", output])
        XCTAssertEqual(result.status, 0, result.combined)
        let computed = try ExtendedXYZ.read(contentsOf: output)
        XCTAssertEqual(computed.count, 1)
        if let c = computed.first { assertMatches(c, reference: frame, label: "eval \(frame.label(model: name))") }
      }
    }
    // An ensemble (`--devi`) takes the one fparam for every model: FittingParameterRunTests' deviation of DeePMD-kit's values.
    let a = try Self.references("cuag_fparam")[1], b = try Self.references("cuag_fparam_b")[1]
    let dir = try makeScratchDirectory("eval-fparam-devi")
    let frame = dir.appendingPathComponent("thermal.xyz").path, devi = dir.appendingPathComponent("devi.out").path
    try ExtendedXYZ.write([a], to: frame)
    let fparam = try XCTUnwrap(a.parameters.frame).map { "\($0)" }.joined(separator: ",")
    let ensemble = try runProcess(tesseraBinary, ["eval", "--model", Self.path("cuag_fparam"), "--model", Self.path("cuag_fparam_b", "pb"),
                                                  "--fparam", fparam, "--devi", devi, frame])
    XCTAssertEqual(ensemble.status, 0, ensemble.combined)
    let text = try String(contentsOfFile: devi, encoding: .utf8)
    let row = try XCTUnwrap(text.split(separator: "\n").first { !$0.hasPrefix("#") }, text).split(separator: " ").compactMap { Double($0) }
    XCTAssertEqual(row.count, 8, text)
    for (k, (x, y)) in zip(row.dropFirst(), try FittingParameterRunTests.deviation(a, b)).enumerated() {
      XCTAssertEqual(x, y, accuracy: 1e-5 * abs(y) + 1e-12, "column \(k + 2) of \(text)")
    }
    let configs = inputPath("models/cuag_fparam/fixtures/configs.xyz")
    let refusals: [([String], String)] = [([], "needs 1 frame parameter(s)"), (["--fparam", "0.3,0.4"], "but fparam gives 2"),
                                          (["--fparam", "warm"], "--fparam: expected comma-separated numbers")]
    for (options, message) in refusals {
      let result = try runProcess(tesseraBinary, ["eval", "--model", Self.path("cuag_fparam")] + options + [configs])
      XCTAssertEqual(result.status, 1, result.combined)
      XCTAssertTrue(result.error.contains("ERROR:") && result.error.contains(message), result.combined)
    }
  }
}

extension ExtendedXYZFrame {
  /// The fparam and aparam a reference frame was evaluated at (make_fixtures.py's `reference`).
  var parameters: (frame: [Double]?, atom: [Double]?) {
    func values(_ key: String) -> [Double]? {
      switch info[key] {
      case .double(let x)?: [x]
      case .integer(let x)?: [Double(x)]
      case .doubles(let x)?: x
      case .integers(let x)?: x.map(Double.init)
      default: nil
      }
    }
    return (values("fparam"), values("aparam"))
  }
}
