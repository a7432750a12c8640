/// Turns a `.dp` document whose descriptor is DPA-3 (`dpa3`, @version 1–2) into a `RepflowModel`.
/// Every hyper-parameter of DeePMD-kit 3.2's serialisation (`repflow_args` and the descriptor's
/// own keys) is read; an option group this evaluator does not implement is refused by key, naming
/// what is supported. Layer widths come from the stored weights and are checked against the
/// hyper-parameters.
struct RepflowModelReader {
  let file: ModelFile

  func model() throws -> RepflowModel {
    let document = try StandardModelDocument(file)
    let model = document.node, typeMap = document.typeMap
    let n = typeMap.count
    let path = file.path

    let d = model["descriptor"]
    let type = try d["type"].string()
    guard type == "dpa3" else { throw d["type"].unsupported("descriptor '\(type)' here (this reader takes dpa3)") }
    try d.checkVersion(1...2)
    if !d["ntypes"].isNull, try d["ntypes"].int() != n {
      throw DeepPotentialError("\(path): \(d["ntypes"].keyPath): expected \(n) (the type map's length)")
    }
    try refuse(d["add_chg_spin_ebd"], ifTrue: "add_chg_spin_ebd true (charge and spin embeddings)")
    try refuse(d["use_econf_tebd"], ifTrue: "use_econf_tebd true (type embeddings from electronic configurations)")
    if !d["exclude_types"].isNull, try !d["exclude_types"].list().isEmpty {
      throw d["exclude_types"].unsupported("a DPA-3 model with descriptor exclude_types")
    }
    for key in ["pair_exclude_types", "atom_exclude_types"] where !model[key].isNull {
      if try !model[key].list().isEmpty { throw model[key].unsupported("a DPA-3 model with \(key)") }
    }
    if !d["env_protection"].isNull, try d["env_protection"].double() != 0 {
      throw d["env_protection"].unsupported("env_protection other than 0 for DPA-3")
    }
    let precision = d["precision"].isNull ? "float64" : try d["precision"].string()
    guard ["float64", "double", "default"].contains(precision) else {
      throw d["precision"].unsupported("descriptor precision '\(precision)' (float64 DPA-3 models only)")
    }
    let activationName = try d["activation_function"].string()
    guard let activation = Activation(name: activationName) else {
      throw DeepPotentialError("\(path): \(d["activation_function"].keyPath): unknown activation function '\(activationName)'")
    }
    let appendsTypeEmbedding = d["concat_output_tebd"].isNull ? false : try d["concat_output_tebd"].bool()

    // repflow_args: every key of DeePMD-kit 3.2's RepFlowArgs.
    let a = d["repflow_args"]
    let nodeWidth = try a["n_dim"].positiveInt(), edgeWidth = try a["e_dim"].positiveInt(), angleWidth = try a["a_dim"].positiveInt()
    let layerCount = try a["nlayers"].positiveInt()
    let cutoff = try a["e_rcut"].double(), smoothingStart = try a["e_rcut_smth"].double()
    let angleCutoff = try a["a_rcut"].double(), angleSmoothingStart = try a["a_rcut_smth"].double()
    let selection = try mixedSelection(a["e_sel"]), angleSelection = try mixedSelection(a["a_sel"])
    let exponentialSwitch = try a["use_exp_switch"].flag(default: false)
    for (rc, rs, key) in [(cutoff, smoothingStart, "e_rcut"), (angleCutoff, angleSmoothingStart, "a_rcut")] {
      // Both switches need r_s < r_c; the exponential one divides by r_s.
      guard rc > 0, rs < rc, exponentialSwitch ? rs > 0 : rs >= 0 else {
        throw DeepPotentialError("\(path): \(a.keyPath): expected 0 \(exponentialSwitch ? "<" : "<=") \(key)_smth < \(key), found \(rs) and \(rc)")
      }
    }
    guard angleCutoff <= cutoff, angleSelection <= selection else {
      throw DeepPotentialError("\(path): \(a.keyPath): expected a_rcut <= e_rcut and a_sel <= e_sel (the angle list is a prefix of the edge list)")
    }
    let axisCount = try a["axis_neuron"].positiveInt()
    guard axisCount <= min(nodeWidth, edgeWidth) else {
      throw DeepPotentialError("\(path): \(a["axis_neuron"].keyPath): expected at most min(n_dim, e_dim) = \(min(nodeWidth, edgeWidth))")
    }
    // Angular compression: node and edges enter the angle updates with a_dim / c and
    // a_dim / 2c · e_rate components (DeePMD-kit's n_a_compress_dim, e_a_compress_dim).
    let compressRate = try intOrDefault(a["a_compress_rate"], 0), compressEdgeRate = try intOrDefault(a["a_compress_e_rate"], 1)
    let compressBySplit = try a["a_compress_use_split"].flag(default: false)
    guard compressRate >= 0, compressEdgeRate > 0,
          compressRate == 0 || (angleWidth * compressEdgeRate) % (2 * compressRate) == 0 else {
      throw DeepPotentialError("\(path): \(a.keyPath): expected a_compress_rate c >= 0, a_compress_e_rate >= 1 and a_dim · a_compress_e_rate divisible by 2c, found c = \(compressRate), e_rate = \(compressEdgeRate), a_dim = \(angleWidth)")
    }
    let angleNodeWidth = compressRate == 0 ? nodeWidth : angleWidth / compressRate
    let angleEdgeWidth = compressRate == 0 ? edgeWidth : angleWidth / (2 * compressRate) * compressEdgeRate
    if compressRate > 0, compressBySplit, angleNodeWidth > nodeWidth || angleEdgeWidth > edgeWidth {
      throw DeepPotentialError("\(path): \(a.keyPath): a_compress_use_split keeps \(angleNodeWidth) node and \(angleEdgeWidth) edge components, more than n_dim \(nodeWidth) or e_dim \(edgeWidth)")
    }
    if try intOrDefault(a["n_multi_edge_message"], 1) != 1 {
      throw a["n_multi_edge_message"].unsupported("n_multi_edge_message other than 1")
    }
    if !(try a["update_angle"].flag(default: true)) { throw a["update_angle"].unsupported("update_angle false") }
    let styleName = a["update_style"].isNull ? "res_residual" : try a["update_style"].string()
    let updateStyle: RepflowModel.UpdateStyle
    switch styleName {
    case "res_residual": updateStyle = .residual
    case "res_avg": updateStyle = .average
    case "res_incr": updateStyle = .increment
    default: throw a["update_style"].unsupported("update_style '\(styleName)' (res_residual, res_avg, res_incr)")
    }
    // update_residual(_init) and fix_stat_std only seeded training; the stored residual vectors and
    // dstd are what the evaluation uses.
    if !a["update_residual"].isNull { _ = try a["update_residual"].double() }
    if !a["update_residual_init"].isNull { _ = try a["update_residual_init"].string() }
    if !a["fix_stat_std"].isNull { _ = try a["fix_stat_std"].double() }
    // optim_update splits the concatenated weight matrices into blocks: the same function.
    _ = try a["optim_update"].flag(default: true)
    let smoothEdgeUpdate = try a["smooth_edge_update"].flag(default: false)
    let edgeInitUsesDistance = try a["edge_init_use_dist"].flag(default: false)
    // use_dynamic_sel: the same neighbours (flattened in DeePMD-kit), normalised by sel / sel_reduce_factor.
    let dynamicSelection = try a["use_dynamic_sel"].flag(default: false)
    let reduceFactor = a["sel_reduce_factor"].isNull ? 10.0 : try a["sel_reduce_factor"].double()
    guard reduceFactor > 0 else {
      throw DeepPotentialError("\(path): \(a["sel_reduce_factor"].keyPath): expected a positive factor, found \(reduceFactor)")
    }
    guard !dynamicSelection || smoothEdgeUpdate else {
      throw DeepPotentialError("\(path): \(a["use_dynamic_sel"].keyPath): use_dynamic_sel needs smooth_edge_update true (as DeePMD-kit)")
    }
    let edgeNormalization = Double(selection) / (dynamicSelection ? reduceFactor : 1)
    let angleNormalization = Double(angleSelection) / (dynamicSelection ? reduceFactor : 1)
    if try a["sequential_update"].flag(default: false) {
      throw a["sequential_update"].unsupported("sequential_update true")
    }

    let typeEmbedding = try AttentionModelReader(file: file).readTypeEmbedding(d["type_embedding"], typeCount: n)
    guard typeEmbedding.count == (n + 1) * nodeWidth else {
      throw DeepPotentialError("\(path): \(d["type_embedding"].keyPath): width \(typeEmbedding.count / (n + 1)), expected n_dim = \(nodeWidth)")
    }
    let v = d["repflow_variable"]
    let edgeEmbedding = try linear(v["edge_embd"], inputs: 1, outputs: edgeWidth, bias: true)
    let angleEmbedding = try linear(v["angle_embd"], inputs: 1, outputs: angleWidth, bias: false)
    let stored = try v["repflow_layers"].list()
    guard stored.count == layerCount else {
      throw DeepPotentialError("\(path): \(v["repflow_layers"].keyPath): \(stored.count) layers stored, nlayers is \(layerCount)")
    }
    let angleInput = angleWidth + angleNodeWidth + 2 * angleEdgeWidth
    let layers = try stored.map { layer -> RepflowModel.RepflowLayer in
      try layer.checkVersion(1...2)
      // DeePMD-kit builds each layer from its own keys: they must be the block's.
      for key in layer.keys.sorted() where !["@class", "@version", "@variables", "ntypes"].contains(key) {
        let own = layer[key], block = key == "activation_function" ? d[key] : a[key]
        if case .object = own.value { continue }  // the layer's networks
        if !block.isNull, !sameHyperParameter(own.value, block.value) {
          throw DeepPotentialError("\(path): \(own.keyPath): disagrees with \(block.keyPath)")
        }
      }
      let byLinearMaps = compressRate > 0 && !compressBySplit
      for key in ["a_compress_n_linear", "a_compress_e_linear"] where !byLinearMaps && !layer[key].isNull {
        throw DeepPotentialError("\(path): \(layer[key].keyPath): a compression map, but a_compress_rate is \(compressRate)\(compressBySplit ? " with a_compress_use_split" : "")")
      }
      let compression = RepflowModel.AngleCompression(
        nodeWidth: angleNodeWidth, edgeWidth: angleEdgeWidth,
        node: byLinearMaps ? try linear(layer["a_compress_n_linear"], inputs: nodeWidth, outputs: angleNodeWidth, bias: false) : nil,
        edge: byLinearMaps ? try linear(layer["a_compress_e_linear"], inputs: edgeWidth, outputs: angleEdgeWidth, bias: false) : nil)
      let residuals = layer["@variables"]
      func vectors(_ key: String, count: Int, width: Int) throws -> [[Double]] {
        guard updateStyle == .residual else { return [] }
        let list = try residuals[key].list()
        guard list.count == count else {
          throw DeepPotentialError("\(path): \(residuals[key].keyPath): expected \(count) residual vectors, found \(list.count)")
        }
        return try list.map { try $0.requiredArray(shape: [width]).values }
      }
      return RepflowModel.RepflowLayer(
        nodeSelf: try linear(layer["node_self_mlp"], inputs: nodeWidth, outputs: nodeWidth, bias: true),
        nodeSymmetric: try linear(layer["node_sym_linear"], inputs: axisCount * (edgeWidth + nodeWidth),
                                  outputs: nodeWidth, bias: true),
        nodeEdge: try linear(layer["node_edge_linear"], inputs: 2 * nodeWidth + edgeWidth, outputs: nodeWidth, bias: true),
        edgeSelf: try linear(layer["edge_self_linear"], inputs: 2 * nodeWidth + edgeWidth, outputs: edgeWidth, bias: true),
        edgeAngle1: try linear(layer["edge_angle_linear1"], inputs: angleInput, outputs: edgeWidth, bias: true),
        edgeAngle2: try linear(layer["edge_angle_linear2"], inputs: edgeWidth, outputs: edgeWidth, bias: true),
        angleSelf: try linear(layer["angle_self_linear"], inputs: angleInput, outputs: angleWidth, bias: true),
        angleCompression: compression,
        nodeResiduals: try vectors("n_residual", count: 3, width: nodeWidth),
        edgeResiduals: try vectors("e_residual", count: 2, width: edgeWidth),
        angleResiduals: try vectors("a_residual", count: 1, width: angleWidth))
    }
    let statistics = v["@variables"]
    let average = try statistics["davg"].requiredArray(shape: [n, selection, 4]).values
    let deviation = try statistics["dstd"].requiredArray(shape: [n, selection, 4]).values
    guard deviation.allSatisfy({ $0 != 0 }) else {
      throw DeepPotentialError("\(path): \(statistics.keyPath).dstd: contains zeros")
    }

    let reader = ModelReader(file: file)
    let descriptorWidth = nodeWidth * (appendsTypeEmbedding ? 2 : 1)
    let fitting = try Fitting(model["fitting"], typeCount: n, descriptorWidth: descriptorWidth)
    if try reader.excludedTypes(model["fitting"]["exclude_types"], typeCount: n).contains(true) {
      throw model["fitting"]["exclude_types"].unsupported("a DPA-3 model with fitting exclude_types")
    }
    return RepflowModel(
      path: path, typeMap: typeMap, cutoff: cutoff, smoothingStart: smoothingStart, selection: selection,
      angleCutoff: angleCutoff, angleSmoothingStart: angleSmoothingStart, angleSelection: angleSelection,
      nodeWidth: nodeWidth, edgeWidth: edgeWidth, angleWidth: angleWidth, axisCount: axisCount,
      edgeNormalization: edgeNormalization, angleNormalization: angleNormalization,
      exponentialSwitch: exponentialSwitch, edgeInitUsesDistance: edgeInitUsesDistance,
      smoothEdgeUpdate: smoothEdgeUpdate, activation: activation, updateStyle: updateStyle, average: average,
      deviation: deviation, typeEmbedding: typeEmbedding, edgeEmbedding: edgeEmbedding, angleEmbedding: angleEmbedding,
      layers: layers, appendsTypeEmbedding: appendsTypeEmbedding, fittings: fitting.networks,
      vacuumEnergy: fitting.vacuumEnergy, fittingBias: fitting.bias,
      outputBias: try reader.biasPerType(model["@variables"]["out_bias"], typeCount: n))
  }

  /// A NativeLayer used as a plain affine map (DPA-3 applies its activation outside the layer).
  private func linear(_ node: DocumentNode, inputs: Int, outputs: Int, bias: Bool) throws -> DenseLayer {
    if node.isNull { throw DeepPotentialError("\(file.path): \(node.keyPath): expected a layer") }
    let layer = try DenseLayer.load(node)
    guard layer.inputWidth == inputs, layer.outputWidth == outputs else {
      throw DeepPotentialError("\(file.path): \(node.keyPath): maps \(layer.inputWidth) → \(layer.outputWidth), expected \(inputs) → \(outputs)")
    }
    guard layer.activation == .linear, layer.timestep == nil, layer.residual == .none, (layer.bias != nil) == bias else {
      throw DeepPotentialError("\(file.path): \(node.keyPath): expected an affine layer (no activation, idt or resnet\(bias ? "" : ", no bias"))")
    }
    return layer
  }

  /// `e_sel` / `a_sel`: one positive count (an integer or a one-element list).
  private func mixedSelection(_ node: DocumentNode) throws -> Int {
    let counts: [Int]
    if case .number = node.value { counts = [try node.int()] } else { counts = try node.ints() }
    guard counts.count == 1, counts[0] > 0 else {
      throw DeepPotentialError("\(file.path): \(node.keyPath): expected one positive neighbour count, found \(counts)")
    }
    return counts[0]
  }



  private func intOrDefault(_ node: DocumentNode, _ fallback: Int) throws -> Int { node.isNull ? fallback : try node.int() }
  private func refuse(_ node: DocumentNode, ifTrue what: String) throws {
    if try node.flag(default: false) { throw node.unsupported(what) }
  }
}
