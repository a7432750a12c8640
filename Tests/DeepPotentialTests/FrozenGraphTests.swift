@testable import DeepPotential
import Foundation
import TensorFlowGraph
import TesseraTestSupport
import Trajectory
import XCTest

/// DeePMD-kit's TensorFlow frozen graphs (`.pb`, as `dp --tf freeze` and `dp --tf compress` wrote
/// them for inputs/models) read without TensorFlow. The oracles: the `.dp` files DeePMD-kit's
/// `dp convert-backend` made from the same graphs, and DeePMD-kit's own results on the graphs
/// (the fixtures' reference.xyz).
final class FrozenGraphTests: XCTestCase {
  static let plainModels = ["cu_se_e2_a", "cuau_se_e2_a"]
  static let allModels = plainModels + ["cu_se_e2_a_compressed"]

  static func graphPath(_ name: String) -> String { inputPath("models/\(name)/\(name).pb") }

  /// The graph gives the model `dp convert-backend` wrote: every array bit for bit.
  func testGraphHoldsTheConvertedModel() throws {
    for name in Self.plainModels {
      let graph = try DeepPotentialModel.load(path: Self.graphPath(name))
      let dp = try DeepPotentialModel.load(path: ModelEditing.modelPath(name))
      XCTAssertEqual(graph.typeMap, dp.typeMap, name)
      XCTAssertEqual(graph.cutoff, dp.cutoff, name)
      XCTAssertEqual(graph.smoothingStart, dp.smoothingStart, name)
      XCTAssertEqual(graph.selection, dp.selection, name)
      XCTAssertEqual(graph.typeOneSide, dp.typeOneSide, name)
      XCTAssertEqual(graph.average, dp.average, name)
      XCTAssertEqual(graph.deviation, dp.deviation, name)
      XCTAssertEqual(graph.embeddingWidth, dp.embeddingWidth, name)
      XCTAssertEqual(graph.axisCount, dp.axisCount, name)
      XCTAssertEqual(graph.fittingBias, dp.fittingBias, name)
      XCTAssertEqual(graph.outputBias, dp.outputBias, name)
      XCTAssertEqual(graph.vacuumEnergy, dp.vacuumEnergy, name)
      // convert-backend keeps train_attr/min_nbor_dist as the document's @variables.min_nbor_dist.
      let stored = try ModelFile(path: ModelEditing.modelPath(name)).rootNode()["@variables"]["min_nbor_dist"].array()
      XCTAssertEqual(graph.minNeighborDistance.map { [$0] }, stored?.values, name)
      XCTAssertFalse(graph.isCompressed, name)
      XCTAssertEqual(graph.embeddings.count, dp.embeddings.count, name)
      for (index, (a, b)) in zip(graph.embeddings, dp.embeddings).enumerated() {
        assertSameNetwork(a, b, "\(name) embedding \(index)")
      }
      XCTAssertEqual(graph.fittings.count, dp.fittings.count, name)
      for (t, (a, b)) in zip(graph.fittings, dp.fittings).enumerated() {
        assertSameNetwork(a, b, "\(name) fitting \(t)")
      }
    }
  }

  private func assertSameNetwork(_ a: DenseNetwork?, _ b: DenseNetwork?, _ label: String) {
    guard let a, let b else { return XCTAssertTrue(a == nil && b == nil, "\(label): present in only one") }
    XCTAssertEqual(a.layers.count, b.layers.count, label)
    for (l, (x, y)) in zip(a.layers, b.layers).enumerated() {
      XCTAssertEqual(x.inputWidth, y.inputWidth, "\(label) layer \(l)")
      XCTAssertEqual(x.outputWidth, y.outputWidth, "\(label) layer \(l)")
      XCTAssertEqual(x.weights, y.weights, "\(label) layer \(l) weights")
      XCTAssertEqual(x.bias, y.bias, "\(label) layer \(l) bias")
      XCTAssertEqual(x.timestep, y.timestep, "\(label) layer \(l) idt")
      XCTAssertEqual(x.activation, y.activation, "\(label) layer \(l) activation")
      XCTAssertEqual("\(x.residual)", "\(y.residual)", "\(label) layer \(l) residual")
    }
  }

  /// The compressed graph's tables tabulate the plain graph's networks: `dp --tf compress`'s
  /// defaults (fine step 0.01, coarse 0.1 up to 5 × upper), and G, dG/ds within quintic
  /// interpolation error of the networks over the whole range. (The compressed `.dp`'s tables, from
  /// `dp --dp compress`, cover another range, so they are no oracle for these.)
  func testCompressedGraphTabulatesThePlainNetworks() throws {
    let compressed = try DeepPotentialModel.load(path: Self.graphPath("cu_se_e2_a_compressed"))
    var plain = try DeepPotentialModel.load(path: Self.graphPath("cu_se_e2_a"))
    XCTAssertTrue(compressed.embeddings.allSatisfy { $0 == nil }, "a compressed graph keeps no embedding networks")
    let tables = try XCTUnwrap(compressed.tables)
    XCTAssertEqual(tables.count, 1)
    let table = try XCTUnwrap(tables[0])
    XCTAssertEqual([table.fineStep, table.coarseStep, table.maximum / table.upper], [0.01, 0.1, 5])
    XCTAssertEqual(table.width, 100)
    for (a, b) in zip(compressed.fittings, plain.fittings) { assertSameNetwork(a, b, "compressed fitting") }
    plain.tables = tables
    let report = try XCTUnwrap(plain.tabulationReport())
    XCTAssertEqual(report.checkedCount, 1)
    XCTAssertLessThan(report.valueError, 1e-9, "\(report)")
    XCTAssertLessThan(report.slopeError, 2e-8, "\(report)")
  }

  private func evaluate(model: String, configs name: String, in directory: URL) throws -> [ExtendedXYZFrame] {
    let output = directory.appendingPathComponent("\(name)-\(model.hasSuffix(".pb") ? "pb" : "dp").xyz").path
    let result = try runProcess(tesseraBinary, ["eval", "--model", model,
                                                 inputPath("models/\(name)/fixtures/configs.xyz"), "-o", output])
    XCTAssertEqual(result.status, 0, result.combined)
    return try ExtendedXYZ.read(contentsOf: output)
  }

  /// `tessera eval --model X.pb` on every reference configuration agrees with DeePMD-kit evaluating
  /// X.pb (reference.xyz) to 1e-10: energies, forces, virials, per-atom energies and virials.
  func testEvalOfGraphsMatchesDeePMDKit() throws {
    let directory = try makeScratchDirectory("eval-pb-reference")
    for name in Self.allModels {
      let computed = try evaluate(model: Self.graphPath(name), configs: name, in: directory)
      let reference = try ExtendedXYZ.read(contentsOf: inputPath("models/\(name)/fixtures/reference.xyz"))
      XCTAssertEqual(computed.count, 7, name)
      XCTAssertEqual(computed.count, reference.count, name)
      for (c, r) in zip(computed, reference) { assertMatches(c, reference: r, label: "pb " + r.label(model: name)) }
    }
  }

  /// `tessera eval --model X.pb` writes what `--model X.dp` writes: byte for byte for the plain
  /// graphs (the same arrays); for the compressed one, whose tables TensorFlow's and the DP backend's
  /// `compress` computed separately, every number to 1e-12 of the largest of its kind in the frame
  /// (1e-14 absolute where symmetry makes the values vanish or a ~1 eV bias cancels).
  func testEvalOfGraphEqualsEvalOfDp() throws {
    let directory = try makeScratchDirectory("eval-pb-dp")
    for name in Self.plainModels {
      let outputs = try [Self.graphPath(name), ModelEditing.modelPath(name)].map { model in
        let output = directory.appendingPathComponent("\(name)-\(model.hasSuffix(".pb") ? "pb" : "dp").xyz").path
        let result = try runProcess(tesseraBinary, ["eval", "--model", model,
                                                     inputPath("models/\(name)/fixtures/configs.xyz"), "-o", output])
        XCTAssertEqual(result.status, 0, result.combined)
        return try String(contentsOfFile: output, encoding: .utf8)
      }
      XCTAssertFalse(outputs[0].isEmpty, name)
      XCTAssertEqual(outputs[0], outputs[1], "\(name): eval output of the .pb differs from the .dp's")
    }
    let name = "cu_se_e2_a_compressed"
    let graph = try evaluate(model: Self.graphPath(name), configs: name, in: directory)
    let dp = try evaluate(model: ModelEditing.modelPath(name), configs: name, in: directory)
    XCTAssertEqual(graph.count, 7)
    XCTAssertEqual(graph.count, dp.count)
    for (a, b) in zip(graph, dp) {
      let label = b.label(model: name)
      guard case .double(let e)? = a.info["energy"], case .double(let expected)? = b.info["energy"] else {
        XCTFail("\(label): energy missing"); continue
      }
      XCTAssertEqual(e, expected, accuracy: 1e-12 * abs(expected), "\(label) energy")
      var pairs = [("virial", a.matrix3x3("virial") ?? [], b.matrix3x3("virial") ?? [])]
      for property in ["forces", "energies", "atom_virial"] {
        guard case .reals(let x)? = a.property(named: property)?.values, case .reals(let y)? = b.property(named: property)?.values else {
          XCTFail("\(label): \(property) missing"); continue
        }
        pairs.append((property, x, y))
      }
      for (what, x, y) in pairs {
        XCTAssertEqual(x.count, y.count, "\(label) \(what)")
        XCTAssertFalse(x.isEmpty, "\(label) \(what)")
        let scale = y.map(abs).max() ?? 0
        let worst = zip(x, y).map { abs($0 - $1) }.max() ?? 0
        XCTAssertLessThanOrEqual(worst, 1e-12 * scale + 1e-14, "\(label) \(what): largest difference \(worst) of \(scale)")
      }
    }
  }

  /// `pair_style deepmd X.pb` in a deck, on 1 and 2 ranks: the same thermo, digit for digit, as
  /// the deck with X.dp (32 copper atoms, NVE, 20 steps).
  func testPairStyleRunsGraphs() throws {
    func deck(_ model: String) -> String {
      """
      units metal
      atom_style atomic
      lattice fcc 3.615
      region box block 0 2 0 2 0 2
      create_box 1 box
      create_atoms 1 box
      mass 1 63.546
      pair_style deepmd \(model)
      pair_coeff * * Cu
      velocity all create 600 4928459 dist gaussian
      neighbor 1.0 bin
      timestep 0.001
      fix 1 all nve
      thermo_style custom step temp pe ke etotal press pxx pyy pzz pxy pxz pyz
      thermo_modify format float %.16g
      thermo 5
      run 20
      """
    }
    for ranks in [1, 2] {
      let graph = try thermoRowsOfRun(deck(Self.graphPath("cu_se_e2_a")), ranks: ranks, scratch: "pb-run")
      let dp = try thermoRowsOfRun(deck(ModelEditing.modelPath("cu_se_e2_a")), ranks: ranks, scratch: "dp-run")
      XCTAssertEqual(graph.count, 5, "\(ranks) ranks")
      XCTAssertEqual(graph, dp, "\(ranks) ranks")
    }
  }

  /// A `.dp` named `.pb` is still read as the HDF5 file it is.
  func testHDF5ContentWinsOverTheExtension() throws {
    let directory = try makeScratchDirectory("frozen-graph-dp")
    let renamed = directory.appendingPathComponent("model.pb").path
    try FileManager.default.copyItem(atPath: ModelEditing.modelPath("cu_se_e2_a"), toPath: renamed)
    let model = try DeepPotentialModel.load(path: renamed)
    XCTAssertEqual(model.typeMap, ["Cu"])
  }

  // MARK: - Refusals

  private func assertRefused(_ bytes: Data, _ expected: [String], _ label: String,
                             file: StaticString = #filePath, line: UInt = #line) throws {
    let directory = try makeScratchDirectory("frozen-graph-bad")
    let fileName = String(label.map { $0.isLetter || $0.isNumber ? $0 : "_" })
    let path = directory.appendingPathComponent("\(fileName).pb").path
    try bytes.write(to: URL(fileURLWithPath: path))
    XCTAssertThrowsError(try DeepPotentialModel.load(path: path), label, file: file, line: line) { error in
      let message = "\(error)"
      XCTAssertTrue(message.hasPrefix(path + ": "), "\(label): \(message)", file: file, line: line)
      for part in expected {
        XCTAssertTrue(message.contains(part), "\(label): '\(part)' not in: \(message)", file: file, line: line)
      }
    }
  }

  func testTruncatedAndForeignFilesAreRefused() throws {
    let original = try Data(contentsOf: URL(fileURLWithPath: Self.graphPath("cu_se_e2_a")))
    // Cut inside a message: the protobuf itself is incomplete.
    for length in [5, 1000, original.count / 2, original.count - 3] {
      try assertRefused(original.prefix(length), ["truncated"], "truncated \(length)")
    }
    // Cut between two nodes: a complete GraphDef that lacks the model's later nodes.
    let graph = try Tensorflow_GraphDef(serializedBytes: original)
    var firstNodes = Tensorflow_GraphDef()
    firstNodes.node = Array(graph.node.prefix(20))
    try assertRefused(try firstNodes.serializedData(), ["has no node"], "cut between nodes")
    try assertRefused(Data(), ["no graph nodes"], "empty")
    try assertRefused(Data("pair_style deepmd graph.pb\n".utf8), ["not a TensorFlow frozen graph"], "text")
    // A foreign GraphDef: one node "x", op "Const", and nothing of DeePMD-kit's.
    try assertRefused(Data([0x0A, 0x0A, 0x0A, 0x01, 0x78, 0x12, 0x05] + Array("Const".utf8)),
                      ["has no node 'model_attr/model_type'"], "foreign graph")
    // Foreign protobuf messages: {1: "hello"} (field 1 is a GraphDef's node, and "hello" no NodeDef),
    // and {1: 150, 2: 1}, whose fields a GraphDef skips as unknown, leaving no nodes.
    try assertRefused(Data([0x0A, 0x05] + Array("hello".utf8)), ["does not decode"], "foreign protobuf")
    try assertRefused(Data([0x08, 0x96, 0x01, 0x10, 0x01]), ["not a TensorFlow frozen graph", "no graph nodes"],
                      "foreign protobuf without nodes")
  }

  /// The cu graph decoded, changed by `edit`, and written back.
  private func edited(_ edit: (inout Tensorflow_GraphDef) -> Void) throws -> Data {
    var graph = try Tensorflow_GraphDef(serializedBytes: try Data(contentsOf: URL(fileURLWithPath: Self.graphPath("cu_se_e2_a"))))
    edit(&graph)
    return try graph.serializedData()
  }

  private func setConstant(_ graph: inout Tensorflow_GraphDef, _ name: String, _ change: (inout Tensorflow_TensorProto) -> Void) {
    guard let i = graph.node.firstIndex(where: { $0.name == name }) else { return XCTFail("no node \(name)") }
    var tensor = graph.node[i].attr["value"]!.tensor
    change(&tensor)
    graph.node[i].attr["value"]!.tensor = tensor
  }

  func testUnsupportedGraphsAreRefusedByNode() throws {
    try assertRefused(try edited { g in setConstant(&g, "fitting_attr/dfparam") { $0.intVal = [1] } },
                      ["fitting_attr/dfparam", "fparam"], "fparam")
    try assertRefused(try edited { g in
      g.node[g.node.firstIndex { $0.op == "ProdEnvMatA" }!].op = "ProdEnvMatAMix"
    }, ["node 'ProdEnvMatA'", "ProdEnvMatAMix", "does not support"], "attention descriptor")
    try assertRefused(try edited { g in setConstant(&g, "model_attr/model_type") { $0.stringVal = [Data("dipole".utf8)] } },
                      ["model_attr/model_type", "dipole"], "dipole model")
    try assertRefused(try edited { g in
      setConstant(&g, "layer_1_type_0/matrix") { t in
        t.dtype = .dtFloat
        t.tensorContent = t.tensorContent.prefix(t.tensorContent.count / 2)
      }
    }, ["layer_1_type_0/matrix", "float64"], "float32 weights")
    for missing in ["filter_type_all/matrix_2_0", "filter_type_all/matrix_3_0", "layer_1_type_0/matrix",
                    "final_layer_type_0/bias", "descrpt_attr/t_std", "fitting_attr/t_bias_atom_e", "model_attr/tmap"] {
      try assertRefused(try edited { g in
        g.node.removeAll { $0.name == missing }
        // Without its bias too, a last layer would look like a shorter network: neuron [25, 50, 100] says not.
        if missing == "filter_type_all/matrix_3_0" { g.node.removeAll { $0.name == "filter_type_all/bias_3_0" } }
      }, [missing.hasSuffix("matrix_3_0") ? "model.descriptor.neuron" : missing], "missing \(missing)")
    }
    try assertRefused(try edited { g in
      setConstant(&g, "descrpt_attr/t_avg") { $0.tensorContent = $0.tensorContent.prefix(800) }
    }, ["descrpt_attr/t_avg", "truncated"], "short tensor")
    try assertRefused(try edited { g in
      setConstant(&g, "train_attr/training_script") { t in
        let text = String(decoding: t.stringVal[0], as: UTF8.self)
        t.stringVal = [Data(text.replacingOccurrences(of: "\"activation_function\":\"tanh\"",
                                                      with: "\"activation_function\":\"swish\"").utf8)]
      }
    }, ["train_attr/training_script", "model.descriptor.activation_function", "swish"], "unknown activation")
    try assertRefused(try edited { g in g.node.removeAll { $0.name == "train_attr/training_script" } },
                      ["train_attr/training_script"], "no training script")
  }

  /// Damaged constants and cut files are refused with a DeePMD-kit error, never a trap: the
  /// constants of every kind the reader uses (the attributes, the first layer of each network kind,
  /// the tables) given absurd shapes, no values, another type or removed, in the one-side compressed
  /// graph and the two-side graph; and the cu graph cut at 8 lengths.
  func testDamagedGraphsNeverTrap() throws {
    var outcomes = [String: Int]()
    for name in ["cu_se_e2_a_compressed", "cuau_se_e2_a"] {
      let graph = try Tensorflow_GraphDef(serializedBytes: try Data(contentsOf: URL(fileURLWithPath: Self.graphPath(name))))
      let kinds = ["attr/", "filter_type_0/matrix_1_1", "filter_type_1/bias_3_0", "layer_0_type_0/", "layer_1_type_1/idt",
                   "final_layer_type_0/", "TabulateFusionSeA/table_info"]
      let constants = graph.node.indices.filter { i in
        let node = graph.node[i]
        return node.op == "Const" && (node.name == "Const" || kinds.contains { node.name.contains($0) })
      }
      XCTAssertGreaterThan(constants.count, 12, name)
      let mutations: [(String, (inout Tensorflow_TensorProto) -> Void)] = [
        ("huge shape", { $0.tensorShape.dim = [.with { $0.size = 1 << 40 }, .with { $0.size = 1 << 30 }] }),
        ("empty shape", { $0.tensorShape.dim = [.with { $0.size = 0 }] }),
        ("one repeated value", { t in t.tensorContent = Data(); t.doubleVal = [0.5]; t.intVal = [3] }),
        ("another type", { $0.dtype = .dtInt32 }),
        ("no values", { t in t.tensorContent = Data(); t.doubleVal = []; t.intVal = []; t.stringVal = [] }),
      ]
      for i in constants {
        for (what, mutate) in mutations {
          var damaged = graph
          var tensor = damaged.node[i].attr["value"]!.tensor
          mutate(&tensor)
          damaged.node[i].attr["value"]!.tensor = tensor
          outcomes[loadOutcome(FrozenGraph(damaged, path: name), "\(name) \(graph.node[i].name) \(what)"), default: 0] += 1
        }
        var removed = graph
        removed.node.remove(at: i)
        outcomes[loadOutcome(FrozenGraph(removed, path: name), "\(name) without \(graph.node[i].name)"), default: 0] += 1
      }
    }
    let original = try Data(contentsOf: URL(fileURLWithPath: Self.graphPath("cu_se_e2_a")))
    let path = try makeScratchDirectory("frozen-graph-cut").appendingPathComponent("graph.pb").path
    for k in 1...8 {
      try original.prefix(original.count * k / 9).write(to: URL(fileURLWithPath: path))
      XCTAssertThrowsError(try DeepPotentialModel.load(path: path), "cut \(k)/9") { error in
        XCTAssertTrue(error is DeepPotentialError && "\(error)".hasPrefix(path + ": "), "cut \(k)/9: \(error)")
      }
    }
    XCTAssertGreaterThan(outcomes["refused", default: 0], 100, "\(outcomes)")
  }

  /// "loaded" or "refused"; any other error fails the test.
  private func loadOutcome(_ graph: FrozenGraph, _ label: String) -> String {
    do {
      _ = try FrozenGraphReader(graph: graph).model()
      return "loaded"
    } catch {
      XCTAssertTrue(error is DeepPotentialError && "\(error)".hasPrefix(graph.path + ": "), "\(label): \(error)")
      return "refused"
    }
  }
}
