/// Turns a `.dp` document whose descriptor is DPA-2 (`dpa2`, @version 3) into a `RepformerModel`.
/// Every hyper-parameter of DeePMD-kit 3.2's serialisation (`repinit_args`, `repformer_args`, the
/// descriptor's own keys and each layer's copy of them) is read; an option group this evaluator does
/// not implement is refused by key, naming what is supported. Widths come from the stored weights
/// and are checked against the hyper-parameters.
struct RepformerModelReader {
  let file: ModelFile

  func model() throws -> RepformerModel {
    let document = try StandardModelDocument(file)
    let model = document.node, typeMap = document.typeMap
    let n = typeMap.count, path = file.path
    let d = model["descriptor"]
    let type = try d["type"].string()
    guard type == "dpa2" else { throw d["type"].unsupported("descriptor '\(type)' here (this reader takes dpa2)") }
    // @version 4 is a compressed repinit (`repinit_variable.compress`).
    try d.checkVersion(3...4)
    let compressed = d["@version"].isNull ? false : try d["@version"].int() == 4
    guard compressed != d["repinit_variable"]["compress"].isNull else {
      throw DeepPotentialError("\(path): \(d["repinit_variable"].keyPath).compress: expected \(compressed ? "" : "no ")compress block with @version \(compressed ? 4 : 3)")
    }
    if !d["ntypes"].isNull, try d["ntypes"].int() != n {
      throw DeepPotentialError("\(path): \(d["ntypes"].keyPath): expected \(n) (the type map's length)")
    }
    let precision = d["precision"].isNull ? "float64" : try d["precision"].string()
    guard ["float64", "double", "default"].contains(precision) else {
      throw d["precision"].unsupported("descriptor precision '\(precision)' (float64 DPA-2 models only)")
    }
    if !(try d["smooth"].flag(default: true)) {
      throw d["smooth"].unsupported("smooth false (masked instead of switched attention and 1/nnei)")
    }
    for key in ["use_econf_tebd", "use_tebd_bias", "add_tebd_to_repinit_out"] where try d[key].flag(default: false) {
      throw d[key].unsupported("\(key) true")
    }
    if !d["exclude_types"].isNull, try !d["exclude_types"].list().isEmpty {
      throw d["exclude_types"].unsupported("a DPA-2 model with descriptor exclude_types")
    }
    for key in ["pair_exclude_types", "atom_exclude_types"] where !model[key].isNull {
      if try !model[key].list().isEmpty { throw model[key].unsupported("a DPA-2 model with \(key)") }
    }
    if !d["env_protection"].isNull, try d["env_protection"].double() != 0 {
      throw d["env_protection"].unsupported("env_protection other than 0 for DPA-2")
    }
    if !d["trainable"].isNull { _ = try d["trainable"].bool() }  // training only
    let appendsTypeEmbedding = try d["concat_output_tebd"].flag(default: true)
    let typeEmbeddingReader = AttentionModelReader(file: file)
    let typeEmbedding = try typeEmbeddingReader.readTypeEmbedding(d["type_embedding"], typeCount: n)
    let tebd = typeEmbedding.count / (n + 1)

    // repinit_args: every key of DeePMD-kit 3.2's RepinitArgs.
    let ri = d["repinit_args"], rv = d["repinit_variable"]
    if !ri["tebd_dim"].isNull, try ri["tebd_dim"].int() != tebd {
      throw DeepPotentialError("\(path): \(ri["tebd_dim"].keyPath): expected \(tebd), the type embedding's width")
    }
    var repinit = try repinitBlock(ri, rv, typeEmbedding: typeEmbedding, typeMap: typeMap)
    let distance = document.root["min_nbor_dist"]
    repinit.minNeighborDistance = distance.isNull ? nil : try distance.double()
    var threeBody: ScalarDescriptorModel? = nil
    if try ri["use_three_body"].flag(default: false) {
      threeBody = try threeBodyBlock(ri, d["repinit_three_body_variable"], typeEmbedding: typeEmbedding, typeMap: typeMap,
                                     listCutoff: repinit.cutoff, listSelection: repinit.selection)
    } else {
      // The three-body hyper-parameters act only with use_three_body.
      if !ri["three_body_neuron"].isNull { _ = try ri["three_body_neuron"].ints() }
      for key in ["three_body_sel", "three_body_rcut", "three_body_rcut_smth"] where !ri[key].isNull { _ = try ri[key].double() }
    }

    // repformer_args: every key of DeePMD-kit 3.2's RepformerArgs.
    let a = d["repformer_args"], v = d["repformers_variable"]
    let cutoff = try a["rcut"].double(), smoothingStart = try a["rcut_smth"].double()
    guard cutoff > 0, smoothingStart >= 0, smoothingStart < cutoff else {
      throw DeepPotentialError("\(path): \(a.keyPath): expected 0 <= rcut_smth < rcut, found \(smoothingStart) and \(cutoff)")
    }
    let selection = try a["nsel"].positiveInt()
    guard cutoff < repinit.cutoff, selection < repinit.selection else {
      throw DeepPotentialError("\(path): \(a.keyPath): expected rcut < repinit rcut and nsel < repinit nsel (the repformer list is a prefix of repinit's), as DeePMD-kit asserts")
    }
    let layerCount = try a["nlayers"].positiveInt()
    let g1Width = try a["g1_dim"].positiveInt(), g2Width = try a["g2_dim"].positiveInt()
    let axisCount = try a["axis_neuron"].positiveInt()
    guard axisCount <= min(g1Width, g2Width) else {
      throw DeepPotentialError("\(path): \(a["axis_neuron"].keyPath): expected at most min(g1_dim, g2_dim) = \(min(g1Width, g2Width))")
    }
    let directDistance = try a["direct_dist"].flag(default: false)
    let updatesH2 = try a["update_h2"].flag(default: false)
    let activationName = try a["activation_function"].string()
    guard let activation = Activation(name: activationName) else {
      throw DeepPotentialError("\(path): \(a["activation_function"].keyPath): unknown activation function '\(activationName)'")
    }
    let styleName = a["update_style"].isNull ? "res_avg" : try a["update_style"].string()
    let updateStyle: RepflowModel.UpdateStyle
    switch styleName {
    case "res_residual": updateStyle = .residual
    case "res_avg": updateStyle = .average
    case "res_incr": updateStyle = .increment
    default: throw a["update_style"].unsupported("update_style '\(styleName)' (res_residual, res_avg, res_incr)")
    }
    // Training-only keys: initial residuals and statistics policy, LayerNorm trainability; the
    // stored vectors, davg/dstd and LayerNorm parameters are what evaluation uses.
    if !a["update_residual"].isNull { _ = try a["update_residual"].double() }
    if !a["update_residual_init"].isNull { _ = try a["update_residual_init"].string() }
    for key in ["set_davg_zero", "trainable_ln"] where !a[key].isNull { _ = try a[key].bool() }
    if !a["ln_eps"].isNull { _ = try a["ln_eps"].double() }
    let sqrtNormalization = try a["use_sqrt_nnei"].flag(default: true)
    let convolutionOut = try a["g1_out_conv"].flag(default: true)
    let selfMLPOut = try a["g1_out_mlp"].flag(default: true)
    let switches = try ["update_g1_has_conv", "update_g1_has_drrd", "update_g1_has_grrg", "update_g1_has_attn",
                        "update_g2_has_g1g1", "update_g2_has_attn", "attn2_has_gate"].reduce(into: [String: Bool]()) {
      $0[$1] = try a[$1].flag(default: $1 != "attn2_has_gate")
    }
    let attn1Hidden = try a["attn1_hidden"].positiveInt(), attn1Heads = try a["attn1_nhead"].positiveInt()
    let attn2Hidden = try a["attn2_hidden"].positiveInt(), attn2Heads = try a["attn2_nhead"].positiveInt()

    let repinitOut = repinit.descriptorWidth + (threeBody?.descriptorWidth ?? 0)
    var shapeTransform: DenseLayer? = nil
    if repinitOut != g1Width {
      shapeTransform = try linear(d["g1_shape_tranform"], inputs: repinitOut, outputs: g1Width, bias: false)
    }
    let g2Embedding = try linear(v["g2_embd"], inputs: 1, outputs: g2Width, bias: true)
    let stored = try v["repformer_layers"].list()
    guard stored.count == layerCount else {
      throw DeepPotentialError("\(path): \(v["repformer_layers"].keyPath): \(stored.count) layers stored, nlayers is \(layerCount)")
    }
    let layers = try stored.enumerated().map { index, layer -> RepformerModel.RepformerLayer in
      try layer.checkVersion(1...2)
      let last = index == layerCount - 1
      for key in layer.keys.sorted() where !["@class", "@version", "@variables", "ntypes", "update_chnnl_2"].contains(key) {
        let own = layer[key], block = key == "smooth" || key == "precision" ? d[key] : a[key == "sel" ? "nsel" : key]
        // The last layer leaves g2 and h2 alone: DeePMD-kit stores its g2 switches off.
        if last, ["update_g2_has_g1g1", "update_g2_has_attn", "update_h2"].contains(key), case .bool(false) = own.value { continue }
        if case .object = own.value { continue }  // the layer's networks
        if !block.isNull, !sameHyperParameter(own.value, block.value) {
          throw DeepPotentialError("\(path): \(own.keyPath): disagrees with \(block.keyPath)")
        }
      }
      if !layer["update_chnnl_2"].isNull, try layer["update_chnnl_2"].bool() == last {
        throw DeepPotentialError("\(path): \(layer["update_chnnl_2"].keyPath): expected \(!last) (only the last layer leaves g2 alone)")
      }
      let conv = switches["update_g1_has_conv"]!, drrd = switches["update_g1_has_drrd"]!
      let grrg = switches["update_g1_has_grrg"]!
      var linear1Inputs = (selfMLPOut ? 0 : g1Width) + (grrg ? g2Width * axisCount : 0) + (drrd ? g1Width * axisCount : 0)
      if conv && !convolutionOut { linear1Inputs += g2Width }
      var localAttention: RepformerModel.LocalAttention? = nil
      if switches["update_g1_has_attn"]! {
        let node = layer["loc_attn"]
        try checkClass(node, "LocalAtten")
        try checkShift(node)
        localAttention = .init(
          hidden: attn1Hidden, heads: attn1Heads,
          query: try linear(node["mapq"], inputs: g1Width, outputs: attn1Hidden * attn1Heads, bias: false),
          keyValue: try linear(node["mapkv"], inputs: g1Width, outputs: (attn1Hidden + g1Width) * attn1Heads, bias: false),
          head: try linear(node["head_map"], inputs: g1Width * attn1Heads, outputs: g1Width, bias: true))
      }
      var g2: RepformerModel.G2Update? = nil
      if !last {
        var attention: RepformerModel.PairAttention? = nil
        if switches["update_g2_has_attn"]! || updatesH2 {
          let map = layer["attn2g_map"]
          try checkClass(map, "Atten2Map")
          try checkShift(map)
          var multiHead: RepformerModel.MultiHeadApply? = nil
          if switches["update_g2_has_attn"]! {
            let apply = layer["attn2_mh_apply"], norm = layer["attn2_lm"]
            try checkClass(apply, "Atten2MultiHeadApply")
            try checkClass(norm, "LayerNorm")
            func vector(_ key: String) throws -> [Double] {
              guard let stored = try norm["@variables"][key].array() else { return [Double](repeating: key == "w" ? 1 : 0, count: g2Width) }
              guard stored.shape == [g2Width] else {
                throw DeepPotentialError("\(path): \(norm["@variables"][key].keyPath): expected shape [\(g2Width)], found \(stored.shape)")
              }
              return stored.values
            }
            multiHead = .init(
              value: try linear(apply["mapv"], inputs: g2Width, outputs: g2Width * attn2Heads, bias: false),
              head: try linear(apply["head_map"], inputs: g2Width * attn2Heads, outputs: g2Width, bias: true),
              normWeight: try vector("w"), normBias: try vector("b"),
              normEpsilon: norm["eps"].isNull ? 1e-5 : try norm["eps"].double())
          }
          var equivariant: DenseLayer? = nil
          if updatesH2 {
            try checkClass(layer["attn2_ev_apply"], "Atten2EquiVarApply")
            equivariant = try linear(layer["attn2_ev_apply"]["head_map"], inputs: attn2Heads, outputs: 1, bias: false)
          }
          attention = .init(
            hidden: attn2Hidden, heads: attn2Heads,
            queryKey: try linear(map["mapqk"], inputs: g2Width, outputs: 2 * attn2Hidden * attn2Heads, bias: false),
            gate: switches["attn2_has_gate"]!, apply: multiHead, equivariant: equivariant)
        }
        g2 = .init(
          linear2: try linear(layer["linear2"], inputs: g2Width, outputs: g2Width, bias: true),
          g1g1: switches["update_g2_has_g1g1"]! ? try linear(layer["proj_g1g1g2"], inputs: g1Width, outputs: g2Width, bias: false) : nil,
          attention: attention)
      }
      let g1Updates = 1 + (selfMLPOut ? 1 : 0) + (conv && convolutionOut ? 1 : 0) + (localAttention != nil ? 1 : 0)
      let g2Updates = g2.map { 1 + ($0.g1g1 != nil ? 1 : 0) + ($0.attention?.apply != nil ? 1 : 0) } ?? 0
      func residuals(_ key: String, count: Int, width: Int) throws -> [[Double]] {
        guard updateStyle == .residual else { return [] }
        let node = layer["@variables"][key]
        let list = try node.list()
        guard list.count == count else {
          throw DeepPotentialError("\(path): \(node.keyPath): expected \(count) residual vectors, found \(list.count)")
        }
        return try list.map { try $0.requiredArray(shape: [width]).values }
      }
      return RepformerModel.RepformerLayer(
        linear1: try linear(layer["linear1"], inputs: linear1Inputs, outputs: g1Width, bias: true),
        g1SelfMLP: selfMLPOut ? try linear(layer["g1_self_mlp"], inputs: g1Width, outputs: g1Width, bias: true) : nil,
        convolution: conv ? try linear(layer["proj_g1g2"], inputs: convolutionOut ? g2Width : g1Width,
                                        outputs: convolutionOut ? g1Width : g2Width, bias: false) : nil,
        hasGrrg: grrg, hasDrrd: drrd, localAttention: localAttention, g2: g2,
        g1Residuals: try residuals("g1_residual", count: g1Updates, width: g1Width),
        g2Residuals: try residuals("g2_residual", count: g2Updates, width: g2Width),
        h2Residuals: try residuals("h2_residual", count: !last && updatesH2 ? 1 : 0, width: 1).map { $0[0] })
    }
    let statistics = v["@variables"]
    let average = try statistics["davg"].requiredArray(shape: [n, selection, 4]).values
    let deviation = try statistics["dstd"].requiredArray(shape: [n, selection, 4]).values
    guard deviation.allSatisfy({ $0 != 0 }) else {
      throw DeepPotentialError("\(path): \(statistics.keyPath).dstd: contains zeros")
    }
    let descriptorWidth = g1Width + (appendsTypeEmbedding ? tebd : 0)
    let fitting = try document.fitting(descriptorWidth: descriptorWidth)
    if fitting.atomExcluded.contains(true) {
      throw model["fitting"]["exclude_types"].unsupported("a DPA-2 model with fitting exclude_types")
    }
    return RepformerModel(
      path: path, typeMap: typeMap, repinit: repinit, threeBody: threeBody, shapeTransform: shapeTransform,
      cutoff: cutoff, smoothingStart: smoothingStart, selection: selection, average: average, deviation: deviation,
      g1Width: g1Width, g2Width: g2Width, axisCount: axisCount, directDistance: directDistance, activation: activation, g2Embedding: g2Embedding,
      layers: layers, sqrtNormalization: sqrtNormalization, convolutionOut: convolutionOut, selfMLPOut: selfMLPOut,
      updateStyle: updateStyle, typeEmbedding: typeEmbedding, typeEmbeddingWidth: tebd,
      appendsTypeEmbedding: appendsTypeEmbedding, fittings: fitting.fittings, vacuumEnergy: fitting.vacuumEnergy,
      fittingBias: fitting.fittingBias, outputBias: fitting.outputBias)
  }

  /// The repinit block as a DPA-1 model without attention layers (DeePMD-kit builds it as one).
  private func repinitBlock(_ a: DocumentNode, _ v: DocumentNode, typeEmbedding: [Double], typeMap: [String]) throws -> AttentionModel {
    let n = typeMap.count, path = file.path, tebd = typeEmbedding.count / (n + 1)
    let cutoff = try a["rcut"].double(), smoothingStart = try a["rcut_smth"].double()
    guard cutoff > 0, smoothingStart >= 0, smoothingStart < cutoff else {
      throw DeepPotentialError("\(path): \(a.keyPath): expected 0 <= rcut_smth < rcut, found \(smoothingStart) and \(cutoff)")
    }
    let selection = try a["nsel"].positiveInt()
    let mode = a["tebd_input_mode"].isNull ? "concat" : try a["tebd_input_mode"].string()
    guard mode == "concat" || mode == "strip" else {
      throw a["tebd_input_mode"].unsupported("tebd_input_mode '\(mode)' (concat or strip)")
    }
    let typeOneSide = try a["type_one_side"].flag(default: false)
    // set_davg_zero and resnet_dt shaped training; the stored statistics and networks are used.
    if !a["set_davg_zero"].isNull { _ = try a["set_davg_zero"].bool() }
    if !a["resnet_dt"].isNull { _ = try a["resnet_dt"].bool() }
    if !a["activation_function"].isNull { _ = try a["activation_function"].string() }  // the networks store theirs
    let reader = AttentionModelReader(file: file)
    let pairInputs = typeOneSide ? tebd : 2 * tebd
    let geometric = try reader.singleNetwork(v["embeddings"], inputWidth: mode == "concat" ? 1 + pairInputs : 1)
    let width = geometric.outputWidth
    if !a["neuron"].isNull, try a["neuron"].ints().last != width {
      throw DeepPotentialError("\(path): \(a["neuron"].keyPath): disagrees with the stored embedding network (width \(width))")
    }
    let inputMode: AttentionModel.InputMode
    if mode == "concat" {
      inputMode = .concat(geometric)
    } else {
      let typeNetwork = try reader.singleNetwork(v["embeddings_strip"], inputWidth: pairInputs)
      guard typeNetwork.outputWidth == width else {
        throw DeepPotentialError("\(path): \(v["embeddings_strip"].keyPath): gives \(typeNetwork.outputWidth) outputs, expected \(width)")
      }
      inputMode = .strip(geometric, typeTable: reader.typePairTable(typeNetwork, typeEmbedding: typeEmbedding,
                                                                     typeCount: n, oneSide: typeOneSide))
    }
    let axisCount = try a["axis_neuron"].positiveInt()
    guard axisCount <= width else {
      throw DeepPotentialError("\(path): \(a["axis_neuron"].keyPath): expected 1...\(width), found \(axisCount)")
    }
    let (average, deviation) = try statistics(v, types: n, slots: selection)
    return AttentionModel(
      path: path, typeMap: typeMap, cutoff: cutoff, smoothingStart: smoothingStart, protection: 0,
      selection: selection, average: average, deviation: deviation, embeddingWidth: width, axisCount: axisCount,
      typeEmbedding: typeEmbedding, typeEmbeddingWidth: tebd, typeOneSide: typeOneSide, inputMode: inputMode,
      smooth: true, attentionLayers: [], appendsTypeEmbedding: false,
      descriptorExcluded: [Bool](repeating: false, count: n * n), pairExcluded: [Bool](repeating: false, count: n * n),
      atomExcluded: [Bool](repeating: false, count: n), fittings: [], vacuumEnergy: [], fittingBias: [], outputBias: [],
      radialTable: try reader.compression(v["compress"], mode: mode, width: width))
  }

  /// The three-body block as a se_e3_tebd descriptor (DeePMD-kit's DescrptBlockSeTTebd), in the
  /// repinit's input mode.
  private func threeBodyBlock(_ a: DocumentNode, _ v: DocumentNode, typeEmbedding: [Double], typeMap: [String],
                              listCutoff: Double, listSelection: Int) throws -> ScalarDescriptorModel {
    let n = typeMap.count, path = file.path, tebd = typeEmbedding.count / (n + 1)
    let cutoff = try a["three_body_rcut"].double(), smoothingStart = try a["three_body_rcut_smth"].double()
    guard cutoff > 0, smoothingStart >= 0, smoothingStart < cutoff, cutoff <= listCutoff else {
      throw DeepPotentialError("\(path): \(a.keyPath): expected 0 <= three_body_rcut_smth < three_body_rcut <= rcut, found \(smoothingStart), \(cutoff), \(listCutoff)")
    }
    let selection = try a["three_body_sel"].positiveInt()
    guard selection <= listSelection else {
      throw DeepPotentialError("\(path): \(a["three_body_sel"].keyPath): expected at most nsel \(listSelection)")
    }
    let mode = a["tebd_input_mode"].isNull ? "concat" : try a["tebd_input_mode"].string()
    let reader = AttentionModelReader(file: file)
    let network = try reader.singleNetwork(v["embeddings"], inputWidth: mode == "concat" ? 1 + 2 * tebd : 1)
    let width = network.outputWidth
    if try a["three_body_neuron"].ints().last != width {
      throw DeepPotentialError("\(path): \(a["three_body_neuron"].keyPath): disagrees with the stored network (width \(width))")
    }
    var table: [Double]? = nil
    if mode == "strip" {
      let strip = try reader.singleNetwork(v["embeddings_strip"], inputWidth: 2 * tebd)
      guard strip.outputWidth == width else {
        throw DeepPotentialError("\(path): \(v["embeddings_strip"].keyPath): gives \(strip.outputWidth) outputs, expected \(width)")
      }
      table = ScalarDescriptorReader.threeBodyTypePairTable(strip, typeEmbedding: typeEmbedding, typeCount: n)
    }
    let (average, deviation) = try statistics(v, types: n, slots: selection)
    return ScalarDescriptorModel(
      path: path, typeMap: typeMap, cutoff: cutoff, smoothingStart: smoothingStart, protection: 0,
      selection: [selection], kind: .typeEmbeddedThreeBody, average: average, deviation: deviation,
      embeddings: [network], embeddingWidth: width, typeEmbedding: typeEmbedding, typeEmbeddingWidth: tebd,
      typePairTable: table, smooth: true, appendsTypeEmbedding: false,
      descriptorExcluded: [Bool](repeating: false, count: n * n), pairExcluded: [Bool](repeating: false, count: n * n),
      atomExcluded: [Bool](repeating: false, count: n), fittings: [], vacuumEnergy: [], fittingBias: [], outputBias: [])
  }

  private func statistics(_ v: DocumentNode, types n: Int, slots: Int) throws -> ([Double], [Double]) {
    let s = v["@variables"]
    let average = try s["davg"].requiredArray(shape: [n, slots, 4]).values
    let deviation = try s["dstd"].requiredArray(shape: [n, slots, 4]).values
    guard deviation.allSatisfy({ $0 != 0 }) else { throw DeepPotentialError("\(file.path): \(s.keyPath).dstd: contains zeros") }
    if !v["env_mat"].isNull {
      if !v["env_mat"]["protection"].isNull, try v["env_mat"]["protection"].double() != 0 {
        throw v["env_mat"]["protection"].unsupported("env_mat protection other than 0")
      }
      if try v["env_mat"]["use_exp_switch"].flag(default: false) {
        throw v["env_mat"]["use_exp_switch"].unsupported("the exponential switch (use_exp_switch)")
      }
    }
    return (average, deviation)
  }

  private func checkClass(_ node: DocumentNode, _ name: String) throws {
    guard try node["@class"].string() == name else {
      throw DeepPotentialError("\(file.path): \(node.keyPath).@class: expected '\(name)'")
    }
  }

  /// The attention maps' score shift (DeePMD-kit fixes it at 20).
  private func checkShift(_ node: DocumentNode) throws {
    if !node["attnw_shift"].isNull, try node["attnw_shift"].double() != 20 {
      throw node["attnw_shift"].unsupported("attnw_shift other than 20")
    }
    if !node["smooth"].isNull, try !node["smooth"].bool() { throw node["smooth"].unsupported("smooth false") }
  }

  private func linear(_ node: DocumentNode, inputs: Int, outputs: Int, bias: Bool) throws -> DenseLayer {
    if node.isNull { throw DeepPotentialError("\(file.path): \(node.keyPath): missing (expected a \(inputs) → \(outputs) layer)") }
    let layer = try DenseLayer.load(node)
    guard layer.inputWidth == inputs, layer.outputWidth == outputs else {
      throw DeepPotentialError("\(file.path): \(node.keyPath): \(layer.inputWidth) → \(layer.outputWidth), expected \(inputs) → \(outputs)")
    }
    guard layer.activation == .linear, layer.timestep == nil, layer.residual == .none, (layer.bias != nil) == bias else {
      throw DeepPotentialError("\(file.path): \(node.keyPath): expected an affine layer (no activation, idt or resnet\(bias ? "" : ", no bias"))")
    }
    return layer
  }



}
