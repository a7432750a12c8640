import Foundation
import TensorFlowGraph

/// Turns a DeePMD-kit TensorFlow frozen graph (`dp --tf freeze`, `dp --tf compress`; v2 and v3
/// naming) into the `DeepPotentialModel` the `.dp` reader builds, the way DeePMD-kit's own
/// `dp convert-backend x.pb x.dp` does: the trained arrays are the graph's Const nodes (type map,
/// cutoff, sel, davg/dstd, every network layer, the compression tables), and what the graph keeps
/// only as code (activations, exclusions) comes from the training input stored in
/// `train_attr/training_script`. The environment op's own attributes give r_c and r_s, since its
/// kernel computes with those float32 values.
struct FrozenGraphReader {
  let graph: FrozenGraph
  private var path: String { graph.path }

  /// DeePMD-kit's TensorFlow custom ops an se_e2_a energy graph contains; any other of its custom ops
  /// means another descriptor, fitting or model kind.
  private static let supportedDeePMDOps: Set<String> = [
    "ProdEnvMatA", "ProdForceSeA", "ProdVirialSeA", "TabulateFusionSeA", "TabulateFusionSeAGrad",
    "TabulateFusionSeAGradGrad",
  ]
  /// The op names DeePMD-kit registers (source/op/tf), so that an unsupported one is named rather
  /// than silently ignored. Its Gelu ops are the tanh approximation Tessera's `gelu` is.
  private static let deePMDOpPrefixes = [
    "ProdEnvMat", "ProdForce", "ProdVirial", "TabulateFusion", "Descrpt", "SoftMin", "PairTab", "EwaldRecp",
    "MapAparam", "GeluCustom", "GeluGradCustom", "GeluGradGradCustom", "UnaggregatedDy", "ParallelProdForce",
    "DprcPairwise", "ConvertForwardMap",
  ]

  func model() throws -> DeepPotentialModel {
    try refuseUnsupportedOps()
    let modelType = try graph.constant("model_attr/model_type").string()
    guard modelType == "ener" else {
      throw DeepPotentialError("\(path): node 'model_attr/model_type' = '\(modelType)': only energy models ('ener') are supported")
    }
    let script = try trainingScript()
    let modelSection = script["model"]
    if let kind = modelSection["type"].string, kind != "standard" {
      throw script.unsupported("model.type '\(kind)' (only 'standard')")
    }
    for key in ["spin", "type_embedding", "use_srtab"] where !modelSection[key].isNull {
      throw script.unsupported("model.\(key)")
    }
    for key in ["pair_exclude_types", "atom_exclude_types"] where !(modelSection[key].list?.isEmpty ?? true) {
      throw script.unsupported("model.\(key)")
    }

    let typeMap = try graph.constant("model_attr/tmap").string().split(separator: " ").map(String.init)
    let n = typeMap.count
    let declaredTypes = try graph.constant("descrpt_attr/ntypes").int()
    guard n > 0, declaredTypes == n else {
      throw DeepPotentialError("\(path): node 'model_attr/tmap' names \(n) types, 'descrpt_attr/ntypes' says \(declaredTypes)")
    }

    let frameCount = try parameterCount("fitting_attr/dfparam", script: script["model"]["fitting_net"]["numb_fparam"])
    let atomCount = try parameterCount("fitting_attr/daparam", script: script["model"]["fitting_net"]["numb_aparam"])
    let descriptor = try FrozenDescriptor(graph: graph, script: script, typeCount: n, extraInputs: frameCount + atomCount)
    let fitting = try FrozenFitting(graph: graph, script: script, typeCount: n,
                                    descriptorWidth: descriptor.embeddingWidth * descriptor.axisCount,
                                    frameCount: frameCount, atomCount: atomCount)
    let outputBiasNode = ["model_attr/t_out_bias", "model_attr/model_attr/t_out_bias"].first(where: graph.has)
    let outputBias = try outputBiasNode.map { try graph.constant($0).doubles(shape: [1, n, 1]) }
      ?? [Double](repeating: 0, count: n)
    // DeePMD-kit 3.2's TensorFlow backend computes out·t_out_std + t_out_bias where the .dp form (and
    // PyTorch) adds the bias alone; graphs it trains hold ones, graphs converted from PyTorch models may not.
    if let stdNode = ["model_attr/t_out_std", "model_attr/model_attr/t_out_std"].first(where: graph.has) {
      let std = try graph.constant(stdNode).doubles(shape: [1, n, 1])
      guard std.allSatisfy({ $0 == 1 }) else {
        throw DeepPotentialError("\(path): node '\(stdNode)' = \(std): an output scale other than 1 is not supported (TensorFlow "
          + "multiplies the atomic energies by it, the .dp form does not; convert the .dp with out_std set to 1)")
      }
    }
    let minDistance = graph.has("train_attr/min_nbor_dist")
      ? try graph.constant("train_attr/min_nbor_dist").double() : nil

    return DeepPotentialModel(
      path: path, typeMap: typeMap, cutoff: descriptor.cutoff, smoothingStart: descriptor.smoothingStart,
      selection: descriptor.selection, protection: 0, average: descriptor.average, deviation: descriptor.deviation,
      typeOneSide: descriptor.typeOneSide, embeddings: descriptor.embeddings, tables: descriptor.tables,
      descriptorExcluded: descriptor.excluded, pairExcluded: [Bool](repeating: false, count: n * n),
      atomExcluded: [Bool](repeating: false, count: n), embeddingWidth: descriptor.embeddingWidth,
      axisCount: descriptor.axisCount, fittings: fitting.networks, vacuumEnergy: fitting.vacuumEnergy,
      fittingBias: fitting.bias, outputBias: outputBias, minNeighborDistance: minDistance,
      parameters: fitting.parameters)
  }

  /// numb_fparam / numb_aparam: the graph's `fitting_attr/dfparam` / `daparam` (0 when absent, as in
  /// graphs older than DeePMD-kit v1), which must agree with the training input's.
  private func parameterCount(_ name: String, script: ScriptNode) throws -> Int {
    let count = graph.has(name) ? try graph.constant(name).int() : 0
    let declared = script.int ?? 0
    guard count >= 0, count == declared else {
      throw DeepPotentialError("\(path): node '\(name)' = \(count) disagrees with the training input's \(script.keyPath) \(declared)")
    }
    return count
  }

  private func refuseUnsupportedOps() throws {
    for node in graph.nodes where !Self.supportedDeePMDOps.contains(node.op) {
      if Self.deePMDOpPrefixes.contains(where: node.op.hasPrefix) {
        throw DeepPotentialError("\(path): node '\(node.name)' is DeePMD-kit's '\(node.op)' op, which Tessera does not "
          + "support (only se_e2_a energy models)")
      }
    }
  }

  private func trainingScript() throws -> ScriptNode {
    let name = "train_attr/training_script"
    guard graph.has(name) else {
      throw DeepPotentialError("\(path): the graph has no node '\(name)' (the training input, which DeePMD-kit v2+ "
        + "freezes into the graph and Tessera needs for the activations and exclusions; truncated file, or too old a graph?)")
    }
    let text = try graph.constant(name).string()
    guard let value = try? JSONDecoder().decode(JSONValue.self, from: Data(text.utf8)), case .object = value else {
      throw DeepPotentialError("\(path): node '\(name)' is not a JSON object")
    }
    return ScriptNode(value: value, keyPath: "", path: path, node: name)
  }
}

/// The se_e2_a descriptor of a frozen graph: `descrpt_attr/*`, the environment op and the
/// `filter_type_*` embedding networks or their `TabulateFusionSeA` tables.
private struct FrozenDescriptor {
  let cutoff, smoothingStart: Double
  let selection: [Int]
  let average, deviation: [Double]
  let typeOneSide: Bool
  let embeddings: [DenseNetwork?]
  let tables: [EmbeddingTable?]?
  let excluded: [Bool]
  let embeddingWidth, axisCount: Int

  /// `extraInputs`: the fparam/aparam columns the first fitting layer takes after the descriptor.
  init(graph: FrozenGraph, script: ScriptNode, typeCount n: Int, extraInputs: Int) throws {
    let path = graph.path
    let section = script["model"]["descriptor"]
    let type = section["type"].string ?? "se_e2_a"
    guard type == "se_e2_a" || type == "se_a" else { throw section["type"].unsupported("descriptor '\(type)' (only se_e2_a)") }
    if let protection = section["env_protection"].number, protection != 0 {
      throw section["env_protection"].unsupported("env_protection \(protection) (TensorFlow's se_e2_a has none)")
    }
    if let mode = section["tebd_input_mode"].string, mode != "concat" {
      throw section["tebd_input_mode"].unsupported("tebd_input_mode '\(mode)'")
    }
    if !section["spin"].isNull { throw section["spin"].unsupported("a spin descriptor") }

    let environment = graph.nodes.filter { $0.op == "ProdEnvMatA" }
    guard environment.count == 1, let op = environment.first else {
      throw DeepPotentialError("\(path): expected one ProdEnvMatA node (the se_e2_a environment), found \(environment.count)")
    }
    func attribute(_ key: String) throws -> Tensorflow_AttrValue.OneOf_Value {
      guard let value = op.attr[key]?.value else {
        throw DeepPotentialError("\(path): node '\(op.name)' has no attribute '\(key)'")
      }
      return value
    }
    guard case .f(let rc) = try attribute("rcut_r"), case .f(let rs) = try attribute("rcut_r_smth"),
          case .list(let selA) = try attribute("sel_a"), case .list(let selR) = try attribute("sel_r") else {
      throw DeepPotentialError("\(path): node '\(op.name)': attributes rcut_r, rcut_r_smth, sel_a, sel_r of unexpected types")
    }
    cutoff = Double(rc)
    smoothingStart = Double(rs)
    guard cutoff > 0, smoothingStart >= 0, smoothingStart < cutoff else {
      throw DeepPotentialError("\(path): node '\(op.name)': expected 0 <= rcut_r_smth < rcut_r, found \(smoothingStart) and \(cutoff)")
    }
    let storedCutoff = try graph.constant("descrpt_attr/rcut").double()
    guard Float(storedCutoff) == rc else {
      throw DeepPotentialError("\(path): node 'descrpt_attr/rcut' = \(storedCutoff) disagrees with '\(op.name)' rcut_r = \(rc)")
    }
    guard selR.i.allSatisfy({ $0 == 0 }) else {
      throw DeepPotentialError("\(path): node '\(op.name)': radial-only neighbours (sel_r \(selR.i)) are not supported")
    }
    selection = try graph.constant("descrpt_attr/sel").ints()
    guard selection.count == n, selection.allSatisfy({ (0...(1 << 20)).contains($0) }), selection.reduce(0, +) > 0,
          selA.i.map(Int.init) == selection else {
      throw DeepPotentialError("\(path): node 'descrpt_attr/sel' = \(selection): expected \(n) counts, as '\(op.name)' sel_a \(selA.i)")
    }
    if graph.has("descrpt_attr/original_sel") {
      let original = try graph.constant("descrpt_attr/original_sel").ints()
      guard original == selection else {
        throw DeepPotentialError("\(path): node 'descrpt_attr/original_sel' = \(original): a graph whose sel was adjusted "
          + "(now \(selection)) is not supported")
      }
    }
    let slots = selection.reduce(0, +)
    average = try graph.constant("descrpt_attr/t_avg").doubles(shape: [n, 4 * slots])
    deviation = try graph.constant("descrpt_attr/t_std").doubles(shape: [n, 4 * slots])
    guard deviation.allSatisfy({ $0 != 0 }) else {
      throw DeepPotentialError("\(path): node 'descrpt_attr/t_std': contains zeros")
    }

    // TensorFlow names the one-side networks filter_type_all/…_<layer>_<neighbour type> and the
    // two-side ones filter_type_<centre>/…_<layer>_<neighbour type>.
    let oneSide = graph.nodes.contains { $0.name.hasPrefix("filter_type_all/") }
    typeOneSide = oneSide
    if let declared = section["type_one_side"].bool, declared != oneSide {
      throw section["type_one_side"].unsupported("type_one_side \(declared) with \(oneSide ? "one-side" : "two-side") networks in the graph")
    }
    let pairs = try section["exclude_types"].typePairs(typeCount: n)
    if oneSide && pairs.contains(true) {
      // TensorFlow masks whole one-side sections, padding included, which the .dp form cannot express.
      throw section["exclude_types"].unsupported("exclude_types with type_one_side")
    }
    excluded = pairs
    let activation = try section.activation()
    let netCount = oneSide ? n : n * n
    func scope(_ index: Int) -> (name: String, neighbor: Int, centre: Int) {
      oneSide ? ("filter_type_all", index, -1) : ("filter_type_\(index % n)", index / n, index % n)
    }
    let compressed = graph.nodes.contains { $0.op == "TabulateFusionSeA" }
    var networks = [DenseNetwork?](repeating: nil, count: netCount)
    if !compressed {
      for index in 0..<netCount {
        let (name, neighbor, centre) = scope(index)
        if !oneSide && pairs[centre * n + neighbor] { continue }
        networks[index] = try graph.embeddingNetwork(scope: name, neighbor: neighbor, activation: activation)
      }
    }
    embeddings = networks
    if let declared = section["neuron"].list?.compactMap(\.int) {
      for network in networks.compactMap({ $0 }) where network.layers.map(\.outputWidth) != declared {
        throw DeepPotentialError("\(path): node '\(script.node)': model.descriptor.neuron \(declared) disagrees with the "
          + "graph's embedding layers \(network.layers.map(\.outputWidth)) (damaged graph?)")
      }
    }

    // se_e2_a's descriptor width M1·M2 is the fitting input (less fparam/aparam), the only place the graph keeps M2.
    var fittingInput = try graph.constant("layer_0_type_0/matrix").shape
    if fittingInput.count == 2 { fittingInput[0] -= extraInputs }
    if compressed {
      let built = try graph.tables(typeCount: n, oneSide: oneSide, excluded: pairs, scope: { scope($0).name })
      tables = built
      guard let width = built.compactMap({ $0?.width }).first, built.allSatisfy({ $0 == nil || $0!.width == width }) else {
        throw DeepPotentialError("\(path): the compressed graph's TabulateFusionSeA tables must exist and share one last_layer_size")
      }
      embeddingWidth = width
    } else {
      tables = nil
      guard let width = networks.compactMap({ $0?.outputWidth }).first,
            networks.allSatisfy({ $0 == nil || $0!.outputWidth == width }) else {
        throw DeepPotentialError("\(path): the embedding networks (filter_type_*) must exist and share one output width")
      }
      embeddingWidth = width
    }
    guard embeddingWidth > 0, fittingInput.count == 2, fittingInput[0] % embeddingWidth == 0, fittingInput[0] > 0 else {
      throw DeepPotentialError("\(path): node 'layer_0_type_0/matrix': shape \(fittingInput) does not take a multiple of the embedding width \(embeddingWidth)")
    }
    axisCount = fittingInput[0] / embeddingWidth
    if let declared = section["axis_neuron"].int, declared != axisCount {
      throw section["axis_neuron"].unsupported("axis_neuron \(declared) with a fitting input of \(fittingInput[0]) = \(embeddingWidth) × \(axisCount)")
    }
    guard axisCount <= embeddingWidth else {
      throw DeepPotentialError("\(path): node 'layer_0_type_0/matrix': axis_neuron \(axisCount) exceeds the embedding width \(embeddingWidth)")
    }
  }
}

/// The per-type energy fitting networks `layer_<l>_type_<t>` and `final_layer_type_<t>`.
private struct FrozenFitting {
  let networks: [DenseNetwork]
  let bias: [Double]
  let vacuumEnergy: [Double]
  let parameters: FittingParameters?

  init(graph: FrozenGraph, script: ScriptNode, typeCount n: Int, descriptorWidth: Int, frameCount: Int,
       atomCount: Int) throws {
    let section = script["model"]["fitting_net"]
    if let type = section["type"].string, type != "ener" {
      throw section["type"].unsupported("fitting '\(type)' (only energy models, 'ener')")
    }
    if let count = section["dim_case_embd"].number, count != 0 { throw section["dim_case_embd"].unsupported("dim_case_embd > 0") }
    if section["use_aparam_as_mask"].bool == true { throw section["use_aparam_as_mask"].unsupported("use_aparam_as_mask") }
    if section["mixed_types"].bool == true || graph.has("layer_0/matrix") {
      throw DeepPotentialError("\(graph.path): a fitting shared by all types (layer_0/matrix, mixed_types) is not supported")
    }
    if !(section["layer_name"].list?.isEmpty ?? true) { throw section["layer_name"].unsupported("shared fitting layers (layer_name)") }
    let activation = try section.activation()
    networks = try (0..<n).map { t in
      try graph.fittingNetwork(type: t, inputWidth: descriptorWidth + frameCount + atomCount, activation: activation)
    }
    bias = try graph.constant("fitting_attr/t_bias_atom_e").doubles(shape: [n])
    // atom_ener: TensorFlow subtracts the network's value at a zero descriptor for the listed types
    // (fparam/aparam kept in that input).
    var vacuumTypes = [Bool](repeating: false, count: n)
    for (t, entry) in (section["atom_ener"].list ?? []).enumerated() where t < n && !entry.isNull { vacuumTypes[t] = true }
    guard frameCount + atomCount > 0 else {
      parameters = nil
      vacuumEnergy = zip(networks, vacuumTypes).map { $1 ? $0.valueAtZero() : 0 }
      return
    }
    func statistics(_ name: String, _ count: Int) throws -> [Double] {
      count == 0 ? [] : try graph.constant("fitting_attr/\(name)").doubles(shape: [count])
    }
    // TensorFlow has no default_fparam (DeePMD-kit refuses it there).
    parameters = try FittingParameters(
      frameCount: frameCount, atomCount: atomCount, frameAverage: try statistics("t_fparam_avg", frameCount),
      frameInverseDeviation: try statistics("t_fparam_istd", frameCount),
      atomAverage: try statistics("t_aparam_avg", atomCount), atomInverseDeviation: try statistics("t_aparam_istd", atomCount),
      defaultFrame: nil, networks: networks, vacuumTypes: vacuumTypes, location: graph.path)
    vacuumEnergy = [Double](repeating: 0, count: n)  // at the parameters' values: `withParameters`
  }
}

extension FrozenGraph {
  /// filter_type_*/{matrix,bias,idt}_<layer>_<neighbour type>, layers from 1. Every layer has the
  /// residual of TensorFlow's `embedding_net`: identity when widths agree, the doubled input when the
  /// width doubles (the same rule as the `.dp` form's `resnet: true`).
  fileprivate func embeddingNetwork(scope: String, neighbor: Int, activation: Activation) throws -> DenseNetwork {
    var layers = [DenseLayer]()
    var l = 1
    while has("\(scope)/matrix_\(l)_\(neighbor)") {
      let layer = try denseLayer(prefix: scope, suffix: "_\(l)_\(neighbor)", activation: activation) { inputs, outputs in
        outputs == inputs ? .identity : outputs == 2 * inputs ? .doubling : .none
      }
      if let previous = layers.last, previous.outputWidth != layer.inputWidth {
        throw DeepPotentialError("\(path): node '\(scope)/matrix_\(l)_\(neighbor)' takes \(layer.inputWidth) inputs but the previous layer gives \(previous.outputWidth)")
      }
      layers.append(layer)
      l += 1
    }
    // A layer's weights missing between its neighbours' is damage, not a shorter network.
    if has("\(scope)/bias_\(l)_\(neighbor)") || has("\(scope)/matrix_\(l + 1)_\(neighbor)") || layers.isEmpty {
      throw DeepPotentialError("\(path): the graph has no node '\(scope)/matrix_\(l)_\(neighbor)' (a layer of the embedding network; truncated or damaged file?)")
    }
    let first = layers[0]
    guard first.inputWidth == 1 else {
      throw DeepPotentialError("\(path): node '\(scope)/matrix_1_\(neighbor)' takes \(first.inputWidth) inputs, expected 1")
    }
    return DenseNetwork(layers: layers)
  }

  /// layer_<l>_type_<t>/… then final_layer_type_<t>/…. TensorFlow's energy fitting adds the input
  /// back only from the second hidden layer on and only between equal widths.
  fileprivate func fittingNetwork(type t: Int, inputWidth: Int, activation: Activation) throws -> DenseNetwork {
    var layers = [DenseLayer]()
    var l = 0
    while has("layer_\(l)_type_\(t)/matrix") {
      let first = l == 0
      layers.append(try denseLayer(prefix: "layer_\(l)_type_\(t)", suffix: "", activation: activation,
                                   requiresBias: true) { inputs, outputs in
        !first && inputs == outputs ? .identity : .none
      })
      l += 1
    }
    if has("layer_\(l)_type_\(t)/bias") || has("layer_\(l + 1)_type_\(t)/matrix") {
      throw DeepPotentialError("\(path): the graph has no node 'layer_\(l)_type_\(t)/matrix' (a layer of the fitting network; truncated or damaged file?)")
    }
    layers.append(try denseLayer(prefix: "final_layer_type_\(t)", suffix: "", activation: .linear,
                                 requiresBias: true) { _, _ in .none })
    guard layers[0].inputWidth == inputWidth else {
      throw DeepPotentialError("\(path): node '\(l == 0 ? "final_layer" : "layer_0")_type_\(t)/matrix' takes \(layers[0].inputWidth) inputs, expected \(inputWidth) (the descriptor width, plus numb_fparam and numb_aparam)")
    }
    for (previous, next) in zip(layers, layers.dropFirst()) where previous.outputWidth != next.inputWidth {
      throw DeepPotentialError("\(path): fitting network of type \(t): a layer takes \(next.inputWidth) inputs but the previous one gives \(previous.outputWidth)")
    }
    guard layers.last!.outputWidth == 1 else {
      throw DeepPotentialError("\(path): node 'final_layer_type_\(t)/matrix' gives \(layers.last!.outputWidth) outputs, expected 1")
    }
    return DenseNetwork(layers: layers)
  }

  /// One layer from `<prefix>/matrix<suffix>` ([in, out]), `bias` ([out]) and optional `idt` ([out] or
  /// [1, out]). TensorFlow's fitting layers always have a bias; an embedding network may be built without.
  private func denseLayer(prefix: String, suffix: String, activation: Activation, requiresBias: Bool = false,
                          residual: (Int, Int) -> Residual) throws -> DenseLayer {
    let matrix = try constant("\(prefix)/matrix\(suffix)")
    guard matrix.shape.count == 2, matrix.shape.allSatisfy({ $0 > 0 }) else {
      throw matrix.fail("expected a matrix, found shape \(matrix.shape)")
    }
    let (inputs, outputs) = (matrix.shape[0], matrix.shape[1])
    func vector(_ name: String) throws -> [Double]? {
      guard has("\(prefix)/\(name)\(suffix)") else { return nil }
      let tensor = try constant("\(prefix)/\(name)\(suffix)")
      guard tensor.shape == [outputs] || tensor.shape == [1, outputs] else {
        throw tensor.fail("expected shape [\(outputs)], found \(tensor.shape)")
      }
      return try tensor.doubles()
    }
    if requiresBias && !has("\(prefix)/bias\(suffix)") {
      throw DeepPotentialError("\(path): the graph has no node '\(prefix)/bias\(suffix)' (truncated or damaged file?)")
    }
    return DenseLayer(inputWidth: inputs, outputWidth: outputs, weights: try matrix.doubles(), bias: try vector("bias"),
                      timestep: try vector("idt"), activation: activation, residual: residual(inputs, outputs))
  }

  /// The `dp compress` tables: each TabulateFusionSeA node reads its coefficients ([intervals,
  /// 6·M1], output-major as in the `.dp` form) and its info vector [lower, upper, max, fine step,
  /// coarse step, check frequency] from Const inputs. TensorFlow names the nodes of one filter scope
  /// TabulateFusionSeA, TabulateFusionSeA_1, … in the order of the neighbour types it tabulates.
  fileprivate func tables(typeCount n: Int, oneSide: Bool, excluded: [Bool],
                          scope: (Int) -> String) throws -> [EmbeddingTable?] {
    var byScope = [String: [(order: Int, node: Tensorflow_NodeDef)]]()
    for node in nodes where node.op == "TabulateFusionSeA" {
      let slash = node.name.lastIndex(of: "/").map { node.name[..<$0] } ?? ""
      let leaf = node.name.split(separator: "/").last.map(String.init) ?? ""
      let order = leaf == "TabulateFusionSeA" ? 0 : Int(leaf.dropFirst("TabulateFusionSeA_".count)) ?? -1
      guard leaf.hasPrefix("TabulateFusionSeA"), order >= 0 else {
        throw DeepPotentialError("\(path): node '\(node.name)': a TabulateFusionSeA node of an unexpected name")
      }
      byScope[String(slash), default: []].append((order, node))
    }
    var tables = [EmbeddingTable?](repeating: nil, count: oneSide ? n : n * n)
    var used = 0
    for centre in (oneSide ? [-1] : Array(0..<n)) {
      let name = scope(oneSide ? 0 : centre)
      let neighbours = (0..<n).filter { oneSide || !excluded[centre * n + $0] }
      let found = (byScope[name] ?? []).sorted { $0.order < $1.order }
      guard found.count == neighbours.count, found.enumerated().allSatisfy({ $0.offset == $0.element.order }) else {
        throw DeepPotentialError("\(path): scope '\(name)' has \(found.count) TabulateFusionSeA nodes, expected \(neighbours.count) (one per tabulated neighbour type)")
      }
      for (neighbor, entry) in zip(neighbours, found) {
        let index = oneSide ? neighbor : centre + n * neighbor
        tables[index] = try table(entry.node)
      }
      used += found.count
    }
    let total = byScope.values.reduce(0) { $0 + $1.count }
    guard used == total else {
      throw DeepPotentialError("\(path): \(total - used) TabulateFusionSeA node(s) outside the filter scopes \(oneSide ? "filter_type_all" : "filter_type_<type>")")
    }
    return tables
  }

  private func table(_ node: Tensorflow_NodeDef) throws -> EmbeddingTable {
    guard node.input.count >= 2, case .i(let width)? = node.attr["last_layer_size"]?.value, (1...(1 << 20)).contains(width) else {
      throw DeepPotentialError("\(path): node '\(node.name)': expected table and info inputs and last_layer_size")
    }
    let data = try constant(Self.nodeName(ofInput: node.input[0]))
    let info = try constant(Self.nodeName(ofInput: node.input[1]))
    let m = Int(width)
    let l = try info.doubles(shape: [6])
    guard data.shape.count == 2, data.shape[1] == 6 * m, data.shape[0] > 0, l[3] > 0, l[4] > 0, l[0] < l[1], l[1] <= l[2] else {
      throw DeepPotentialError("\(path): node '\(node.name)': malformed compression table (shape \(data.shape), info \(l))")
    }
    let intervals = data.shape[0]
    guard ((l[1] - l[0]) / l[3]).rounded(.towardZero) <= Double(intervals),
          ((l[2] - l[1]) / l[4]).rounded(.towardZero) <= Double(intervals) else {
      throw DeepPotentialError("\(path): node '\(node.name)': \(intervals) intervals cannot cover [\(l[0]), \(l[1])) in steps of \(l[3])")
    }
    let values = try data.doubles()
    // [interval][output][power] as stored, [interval][power][output] as EmbeddingTable evaluates.
    var coefficients = [Double](repeating: 0, count: values.count)
    for interval in 0..<intervals {
      for output in 0..<m {
        for q in 0..<6 { coefficients[(interval * 6 + q) * m + output] = values[(interval * m + output) * 6 + q] }
      }
    }
    return EmbeddingTable(lower: l[0], upper: l[1], maximum: l[2], fineStep: l[3], coarseStep: l[4],
                          intervalCount: intervals, width: m, coefficients: coefficients)
  }
}

/// A position in the training input JSON frozen into `train_attr/training_script`; absent keys read
/// as null (DeePMD-kit's defaults then apply).
private struct ScriptNode {
  let value: JSONValue
  let keyPath: String
  let path: String
  let node: String

  subscript(_ key: String) -> ScriptNode {
    var member = JSONValue.null
    if case .object(let members) = value { member = members[key] ?? .null }
    return ScriptNode(value: member, keyPath: keyPath.isEmpty ? key : "\(keyPath).\(key)", path: path, node: node)
  }

  var isNull: Bool { if case .null = value { true } else { false } }
  var string: String? { if case .string(let s) = value { s } else { nil } }
  var number: Double? { if case .number(let x) = value { x } else { nil } }
  /// An integral number small enough for any count or index.
  var int: Int? { number.flatMap { $0 == $0.rounded() && abs($0) < 1e9 ? Int($0) : nil } }
  var bool: Bool? { if case .bool(let b) = value { b } else { nil } }
  var list: [ScriptNode]? {
    guard case .array(let items) = value else { return nil }
    return items.enumerated().map { ScriptNode(value: $1, keyPath: "\(keyPath)[\($0)]", path: path, node: node) }
  }

  func unsupported(_ what: String) -> DeepPotentialError {
    DeepPotentialError("\(path): node '\(node)': \(keyPath.isEmpty ? "" : "\(keyPath): ")\(what) is not supported")
  }

  /// `activation_function`, "tanh" when absent (DeePMD-kit's default).
  func activation() throws -> Activation {
    let node = self["activation_function"]
    let name = node.string ?? "tanh"
    guard let activation = Activation(name: name) else { throw node.unsupported("activation function '\(name)'") }
    return activation
  }

  /// Unordered type pairs as a symmetric ntypes × ntypes mask.
  func typePairs(typeCount n: Int) throws -> [Bool] {
    var mask = [Bool](repeating: false, count: n * n)
    for pair in list ?? [] {
      let p = (pair.list ?? []).compactMap(\.int)
      guard p.count == 2, p.allSatisfy({ (0..<n).contains($0) }) else {
        throw DeepPotentialError("\(path): node '\(node)': \(pair.keyPath): expected a pair of type indices below \(n)")
      }
      mask[p[0] * n + p[1]] = true
      mask[p[1] * n + p[0]] = true
    }
    return mask
  }
}
