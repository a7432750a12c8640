@testable import DeepPotential
import Foundation
import TesseraTestSupport
import XCTest

/// What a model file gives when it loads, and the message when it must not.
final class ModelLoadingTests: XCTestCase {
  func testReadsTheCopperModel() throws {
    let model = try DeepPotentialModel.load(path: ModelEditing.modelPath("cu_se_e2_a"))
    XCTAssertEqual(model.typeMap, ["Cu"])
    XCTAssertEqual(model.cutoff, 6.0)
    XCTAssertEqual(model.smoothingStart, 0.5)
    XCTAssertEqual(model.selection, [112])
    XCTAssertTrue(model.typeOneSide)
    XCTAssertEqual(model.embeddingWidth, 100)
    XCTAssertEqual(model.axisCount, 16)
    XCTAssertEqual(model.embeddings[0]?.layers.map(\.outputWidth), [25, 50, 100])
    XCTAssertEqual(model.embeddings[0]?.layers.map(\.residual), [Residual.none, .doubling, .doubling])
    XCTAssertEqual(model.fittings[0].layers.map(\.outputWidth), [240, 240, 240, 1])
    // resnet_dt in the fitting: the 240 → 240 layers carry a timestep vector.
    XCTAssertEqual(model.fittings[0].layers.map { $0.timestep != nil }, [false, true, true, false])
    XCTAssertFalse(model.isCompressed)
    XCTAssertTrue(try DeepPotentialModel.load(path: ModelEditing.modelPath("cu_se_e2_a_compressed")).isCompressed)
  }

  func testReadsTheTwoTypeModel() throws {
    let model = try DeepPotentialModel.load(path: ModelEditing.modelPath("cuau_se_e2_a"))
    XCTAssertEqual(model.typeMap, ["Cu", "Au"])
    XCTAssertEqual(model.selection, [72, 72])
    XCTAssertFalse(model.typeOneSide)
    XCTAssertEqual(model.embeddings.count, 4)
  }

  func assertRefused(_ path: String, mentions expected: [String], file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertThrowsError(try DeepPotentialModel.load(path: path), file: file, line: line) { error in
      let message = "\(error)"
      for fragment in expected {
        XCTAssertTrue(message.contains(fragment), "'\(message)' does not mention '\(fragment)'", file: file, line: line)
      }
    }
  }

  func testMissingAndTruncatedFiles() throws {
    assertRefused("/nonexistent/model.dp", mentions: ["/nonexistent/model.dp", "cannot read the model file"])
    let directory = try makeScratchDirectory("truncated-model")
    let data = try Data(contentsOf: URL(fileURLWithPath: ModelEditing.modelPath("cu_se_e2_a")))
    for fraction in [0.001, 0.5, 0.99] {
      let path = directory.appendingPathComponent("cut-\(fraction).dp").path
      try data.prefix(Int(Double(data.count) * fraction)).write(to: URL(fileURLWithPath: path))
      assertRefused(path, mentions: [path])
    }
    let text = directory.appendingPathComponent("text.dp").path
    try "not a model".write(toFile: text, atomically: true, encoding: .utf8)
    assertRefused(text, mentions: [text, "not a readable HDF5 file"])
  }

  /// A dataset header claiming more elements than the file holds (a flipped bit in its shape, found
  /// by tessera-fuzz) once allocated the claimed size before reading and was killed.
  func testDatasetShapeLargerThanTheFileIsRefused() throws {
    let path = try ModelEditing.copy("cu_se_e2_a") { _ in }
    let document = try ModelFile(path: path).rootNode().value
    guard case .string(let reference) = document[path: "model.descriptor.@variables.davg"] else {
      return XCTFail("no davg dataset reference")
    }
    try ModelEditing.replaceDataset(path: path, name: reference, shape: [1 << 20, 1 << 20, 1 << 10])
    assertRefused(path, mentions: [path, "model.descriptor.@variables.davg", "more than the file holds"])
  }

  func testUnsupportedFeaturesAreRefusedByKey() throws {
    let cases: [(String, JSONValue, [String])] = [
      ("model.descriptor.type", .string("dpa2"), ["model.descriptor.type", "a DPA-2 model (dpa2)", "not supported"]),
      ("model.type", .string("zbl"), ["model.type", "'zbl'"]),
      ("model.fitting.type", .string("dipole"), ["model.fitting.type", "'dipole'"]),
      // A se_e2_a fitting takes fparam/aparam (FittingParameterTests), but then as further inputs of its first layer.
      ("model.fitting.numb_fparam", .number(2), ["first layer takes 1600 inputs, expected 1602", "numb_fparam 2"]),
      ("model.fitting.numb_aparam", .number(1), ["first layer takes 1600 inputs, expected 1601", "numb_aparam 1"]),
      ("model.fitting.dim_case_embd", .number(3), ["model.fitting.dim_case_embd", "not supported"]),
      ("model.descriptor.precision", .string("float32"), ["model.descriptor.precision", "float32"]),
      ("model.descriptor.embeddings.networks.0.layers.1.activation_function", .string("swish"),
       ["layers[1].activation_function", "unknown activation function 'swish'"]),
      ("model.descriptor.@version", .number(7), ["model.descriptor.@version = 7"]),
      ("model.descriptor.sel", .array([.number(112), .number(3)]), ["model.descriptor.sel", "one per type"]),
    ]
    for (key, value, expected) in cases {
      let path = try ModelEditing.copy("cu_se_e2_a") { $0[path: key] = value }
      assertRefused(path, mentions: [path] + expected)
    }
  }

  func testEveryActivationHasTheRightDerivative() {
    let names = ["tanh", "gelu", "relu", "relu6", "softplus", "sigmoid", "silu", "silut:2.5", "linear"]
    for name in names {
      guard let activation = Activation(name: name) else { return XCTFail("\(name) not recognised") }
      for z in stride(from: -4.0, through: 7.0, by: 0.37) {
        let h = 1e-6
        let numeric = (activation.value(z + h) - activation.value(z - h)) / (2 * h)
        XCTAssertEqual(activation.derivative(z, output: activation.value(z)), numeric, accuracy: 1e-7,
                       "\(name) at \(z)")
      }
    }
    XCTAssertNil(Activation(name: "swish"))
    XCTAssertEqual(Activation(name: "GELU_TF"), .gelu)
  }
}
