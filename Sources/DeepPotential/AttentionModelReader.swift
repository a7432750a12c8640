/// Turns a `.dp` document whose descriptor is DPA-1 (`dpa1` / `se_atten` / `se_atten_v2`,
/// @version 1–2) into an `AttentionModel`. Every hyper-parameter of DeePMD-kit 3.2's serialisation
/// is read; a value this evaluator does not implement is refused by key, naming what is supported.
/// The networks' own layers are authoritative for widths, activations and residuals; the
/// attention layers' own flags (`dotr`, `normalize`, `smooth`, …) are what DeePMD-kit applies.
struct AttentionModelReader {
  static let descriptorTypes: Set<String> = ["dpa1", "se_atten", "se_atten_v2"]
  let file: ModelFile

  func model() throws -> AttentionModel {
    try model(StandardModelDocument(file))
  }

  /// The model of `document`, whose descriptor this reader takes.
  func model(_ document: StandardModelDocument) throws -> AttentionModel {
    var result = try descriptor(document.node["descriptor"], typeMap: document.typeMap)
    result.attach(try document.fitting(descriptorWidth: result.descriptorWidth))
    let distance = document.root["min_nbor_dist"]
    result.minNeighborDistance = distance.isNull ? nil : try distance.double()
    return result
  }

  /// The descriptor `d` alone (a model's, or a hybrid's part), without fitting or model-level
  /// exclusions.
  func descriptor(_ d: DocumentNode, typeMap: [String]) throws -> AttentionModel {
    let n = typeMap.count
    let type = try d["type"].string()
    guard Self.descriptorTypes.contains(type) else {
      throw d["type"].unsupported("descriptor '\(type)' here (this reader takes dpa1, se_atten, se_atten_v2)")
    }
    // @version 3 adds the `compress` block; 4 adds `lmax` moment bases (DeePMD-kit devel).
    try d.checkVersion(1...3)
    if !d["spin"].isNull { throw d["spin"].unsupported("a spin descriptor") }
    if !d["lmax"].isNull, try d["lmax"].int() != 1 { throw d["lmax"].unsupported("lmax other than 1") }
    if !d["ntypes"].isNull, try d["ntypes"].int() != n {
      throw DeepPotentialError("\(file.path): \(d["ntypes"].keyPath): expected \(n) (the type map's length)")
    }
    let isV2 = type == "se_atten_v2"
    let path = file.path
    let cutoff = try d["rcut"].double()
    let smoothingStart = try d["rcut_smth"].double()
    guard cutoff > 0, smoothingStart >= 0, smoothingStart < cutoff else {
      throw DeepPotentialError("\(path): \(d.keyPath): expected 0 <= rcut_smth < rcut, found \(smoothingStart) and \(cutoff)")
    }
    let selection = try mixedSelection(d["sel"])
    let precision = d["precision"].isNull ? "float64" : try d["precision"].string()
    guard ["float64", "double", "default"].contains(precision) else {
      throw d["precision"].unsupported("descriptor precision '\(precision)' (float64 DPA-1 models only)")
    }
    if !d["attn_mask"].isNull, try d["attn_mask"].bool() {
      throw d["attn_mask"].unsupported("attn_mask true (DeePMD-kit itself refuses it)")
    }
    if !d["use_econf_tebd"].isNull, try d["use_econf_tebd"].bool() {
      throw d["use_econf_tebd"].unsupported("use_econf_tebd true (type embeddings from electronic configurations)")
    }
    // se_atten_v2 fixes strip mode and the smooth type embedding and does not store either key.
    let mode = isV2 ? "strip" : (d["tebd_input_mode"].isNull ? "concat" : try d["tebd_input_mode"].string())
    guard mode == "concat" || mode == "strip" else {
      throw d["tebd_input_mode"].unsupported("tebd_input_mode '\(mode)' (concat or strip)")
    }
    let smooth = isV2 ? true : (d["smooth_type_embedding"].isNull ? true : try d["smooth_type_embedding"].bool())
    let typeOneSide = d["type_one_side"].isNull ? false : try d["type_one_side"].bool()
    let appendsTypeEmbedding = d["concat_output_tebd"].isNull ? true : try d["concat_output_tebd"].bool()
    let protection = d["env_protection"].isNull ? 0 : try d["env_protection"].double()
    let axisCount = try d["axis_neuron"].int()

    let typeEmbedding = try readTypeEmbedding(d["type_embedding"], typeCount: n)
    let tebdWidth = typeEmbedding.count / (n + 1)
    if !d["tebd_dim"].isNull, try d["tebd_dim"].int() != tebdWidth {
      throw DeepPotentialError("\(path): \(d["tebd_dim"].keyPath): expected \(tebdWidth), the type embedding's width")
    }
    let pairInputs = typeOneSide ? tebdWidth : 2 * tebdWidth
    let geometric = try singleNetwork(d["embeddings"], inputWidth: mode == "concat" ? 1 + pairInputs : 1)
    let width = geometric.outputWidth
    let inputMode: AttentionModel.InputMode
    if mode == "concat" {
      inputMode = .concat(geometric)
    } else {
      let typeNetwork = try singleNetwork(d["embeddings_strip"], inputWidth: pairInputs)
      guard typeNetwork.outputWidth == width else {
        throw DeepPotentialError("\(path): \(d["embeddings_strip"].keyPath): gives \(typeNetwork.outputWidth) outputs, expected \(width) like the embedding network")
      }
      inputMode = .strip(geometric, typeTable: typePairTable(typeNetwork, typeEmbedding: typeEmbedding, typeCount: n,
                                                            oneSide: typeOneSide))
    }
    let radialTable = try compression(d["compress"], mode: mode, width: width)
    guard axisCount > 0, axisCount <= width else {
      throw DeepPotentialError("\(path): \(d["axis_neuron"].keyPath): expected 1...\(width), found \(axisCount)")
    }
    let layers = try readAttention(d["attention_layers"], width: width, selection: selection)
    for key in ["attn_layer", "attn"] where !d[key].isNull {
      let stored = try d[key].int()
      let found = key == "attn_layer" ? layers.count : (layers.first?.hidden ?? stored)
      guard stored == found else {
        throw DeepPotentialError("\(path): \(d[key].keyPath): \(stored) disagrees with the attention layers stored (\(found))")
      }
    }

    let average = try d["@variables"]["davg"].requiredArray(shape: [n, selection, 4]).values
    let deviation = try d["@variables"]["dstd"].requiredArray(shape: [n, selection, 4]).values
    guard deviation.allSatisfy({ $0 != 0 }) else {
      throw DeepPotentialError("\(path): \(d.keyPath).@variables.dstd: contains zeros")
    }

    return AttentionModel(
      path: path, typeMap: typeMap, cutoff: cutoff, smoothingStart: smoothingStart, protection: protection,
      selection: selection, average: average, deviation: deviation, embeddingWidth: width, axisCount: axisCount,
      typeEmbedding: typeEmbedding, typeEmbeddingWidth: tebdWidth, typeOneSide: typeOneSide, inputMode: inputMode,
      smooth: smooth, attentionLayers: layers, appendsTypeEmbedding: appendsTypeEmbedding,
      descriptorExcluded: try d["exclude_types"].typePairs(typeCount: n),
      pairExcluded: [Bool](repeating: false, count: n * n), atomExcluded: [Bool](repeating: false, count: n),
      fittings: [], vacuumEnergy: [], fittingBias: [], outputBias: [], radialTable: radialTable)
  }

  /// DeePMD-kit's `compress` block (`DescrptDPA1.enable_compression`, and DPA-2's for its repinit
  /// block): `type_embd_data`, the strip network of every type pair, which this reader computes
  /// itself from the same networks (only its shape is checked), and with `geo_compress` the radial
  /// network's one table.
  func compression(_ node: DocumentNode, mode: String, width: Int) throws -> EmbeddingTable? {
    if node.isNull { return nil }
    guard mode == "strip" else {
      throw DeepPotentialError("\(file.path): \(node.keyPath): a compressed embedding must be in strip mode (DeePMD-kit compresses only that)")
    }
    let variables = node["@variables"]
    guard let typeData = try variables["type_embd_data"].array(), typeData.shape.last == width else {
      throw DeepPotentialError("\(file.path): \(variables.keyPath).type_embd_data: expected the strip table, \(width) wide")
    }
    guard try node["geo_compress"].isNull ? false : node["geo_compress"].bool() else { return nil }
    return try EmbeddingTable.loadAll(variables, count: 1, width: width)[0]
  }

  /// `sel` of a mixed-type descriptor: one count, stored as an integer or a one-element list.
  private func mixedSelection(_ node: DocumentNode) throws -> Int {
    let counts: [Int]
    if case .number = node.value { counts = [try node.int()] } else { counts = try node.ints() }
    guard counts.count == 1, counts[0] > 0 else {
      throw DeepPotentialError("\(file.path): \(node.keyPath): expected one positive neighbour count (mixed types), found \(counts)")
    }
    return counts[0]
  }

  /// A NetworkCollection of one network (ndim 0), as DPA-1 stores `embeddings` and `embeddings_strip`.
  func singleNetwork(_ collection: DocumentNode, inputWidth: Int) throws -> DenseNetwork {
    let networks = try collection["networks"].list()
    if !collection["ndim"].isNull, try collection["ndim"].int() != 0 {
      throw DeepPotentialError("\(file.path): \(collection.keyPath).ndim: expected 0 (one network for all types)")
    }
    guard networks.count == 1, !networks[0].isNull else {
      throw DeepPotentialError("\(file.path): \(collection.keyPath).networks: expected one network, found \(networks.count)")
    }
    return try DenseNetwork.load(networks[0], inputWidth: inputWidth, outputWidth: nil)
  }

  /// The TypeEmbedNet applied to one-hot types, with DeePMD-kit's zero padding row appended (DPA-1
  /// and DPA-3 store it alike).
  func readTypeEmbedding(_ node: DocumentNode, typeCount n: Int) throws -> [Double] {
    guard try node["@class"].string() == "TypeEmbedNet" else {
      throw DeepPotentialError("\(file.path): \(node.keyPath).@class: expected 'TypeEmbedNet'")
    }
    try node.checkVersion(1...2)
    if !node["padding"].isNull, try !node["padding"].bool() {
      throw node["padding"].unsupported("a type embedding without its padding row")
    }
    if !node["use_econf_tebd"].isNull, try node["use_econf_tebd"].bool() {
      throw node["use_econf_tebd"].unsupported("use_econf_tebd true")
    }
    let network = try DenseNetwork.load(node["embedding"], inputWidth: n, outputWidth: nil)
    let tape = NetworkTape(network, capacity: n)
    tape.input.update(repeating: 0, count: n * n)
    for t in 0..<n { tape.input[t * n + t] = 1 }
    tape.forward(rows: n)
    let width = network.outputWidth
    return Array(UnsafeBufferPointer(start: tape.output, count: n * width)) + [Double](repeating: 0, count: width)
  }

  /// N_t over every (centre, neighbour) type pair, padding included: rows ti·(ntypes+1) + tj of
  /// the input [T_j, T_i] (two-sided), or rows tj of T_j (type_one_side), as DeePMD-kit tiles them.
  func typePairTable(_ network: DenseNetwork, typeEmbedding: [Double], typeCount n: Int,
                             oneSide: Bool) -> [Double] {
    let padded = n + 1, width = typeEmbedding.count / padded
    let rows = oneSide ? padded : padded * padded
    let tape = NetworkTape(network, capacity: rows)
    for row in 0..<rows {
      let (centre, neighbor) = oneSide ? (0, row) : (row / padded, row % padded)
      let input = tape.input + row * network.inputWidth
      for c in 0..<width { input[c] = typeEmbedding[neighbor * width + c] }
      if !oneSide { for c in 0..<width { input[width + c] = typeEmbedding[centre * width + c] } }
    }
    tape.forward(rows: rows)
    return Array(UnsafeBufferPointer(start: tape.output, count: rows * network.outputWidth))
  }

  /// `attention_layers`: a NeighborGatedAttention of `layer_num` NeighborGatedAttentionLayers.
  private func readAttention(_ node: DocumentNode, width: Int, selection: Int) throws -> [AttentionModel.AttentionLayer] {
    if node.isNull { throw DeepPotentialError("\(file.path): \(node.keyPath): expected the attention layers") }
    guard try node["@class"].string() == "NeighborGatedAttention" else {
      throw DeepPotentialError("\(file.path): \(node.keyPath).@class: expected 'NeighborGatedAttention'")
    }
    try node.checkVersion(1...1)
    let layers = try node["attention_layers"].list()
    if !node["layer_num"].isNull, try node["layer_num"].int() != layers.count {
      throw DeepPotentialError("\(file.path): \(node.keyPath).layer_num: disagrees with the \(layers.count) layers stored")
    }
    return try layers.map { layer in
      let gated = layer["attention_layer"]
      let heads = gated["num_heads"].isNull ? 1 : try gated["num_heads"].int()
      guard heads == 1 else { throw gated["num_heads"].unsupported("num_heads \(heads) (DeePMD-kit's DPA-1 uses 1)") }
      if !gated["nnei"].isNull, try gated["nnei"].int() != selection {
        throw DeepPotentialError("\(file.path): \(gated["nnei"].keyPath): expected \(selection) (sel)")
      }
      let input = try DenseLayer.load(gated["in_proj"])
      let output = try DenseLayer.load(gated["out_proj"])
      let hidden = output.inputWidth
      guard input.inputWidth == width, input.outputWidth == 3 * hidden, output.outputWidth == width,
            input.activation == .linear, output.activation == .linear, input.timestep == nil, output.timestep == nil,
            input.residual == .none, output.residual == .none else {
        throw DeepPotentialError("\(file.path): \(gated.keyPath): expected linear projections \(width) → 3·hidden and hidden → \(width), found \(input.inputWidth) → \(input.outputWidth) and \(output.inputWidth) → \(output.outputWidth)")
      }
      let factor = gated["scaling_factor"].isNull ? 1 : try gated["scaling_factor"].double()
      let scaling = gated["temperature"].isNull ? 1 / (Double(hidden) * factor).squareRoot() : try gated["temperature"].double()
      guard scaling.isFinite else { throw gated["scaling_factor"].unsupported("scaling_factor \(factor)") }
      let norm = layer["attn_layer_norm"]
      guard try norm["@class"].string() == "LayerNorm" else {
        throw DeepPotentialError("\(file.path): \(norm.keyPath).@class: expected 'LayerNorm'")
      }
      func vector(_ key: String) throws -> [Double]? {
        let entry = norm["@variables"][key]
        return try entry.array().map { stored in
          guard stored.shape == [width] else {
            throw DeepPotentialError("\(file.path): \(entry.keyPath): expected shape [\(width)], found \(stored.shape)")
          }
          return stored.values
        }
      }
      let epsilon = norm["eps"].isNull ? 1e-5 : try norm["eps"].double()
      return AttentionModel.AttentionLayer(
        inputProjection: input, outputProjection: output, hidden: hidden, scaling: scaling,
        normalizes: gated["normalize"].isNull ? true : try gated["normalize"].bool(),
        smooth: gated["smooth"].isNull ? true : try gated["smooth"].bool(),
        dotProductGate: gated["dotr"].isNull ? false : try gated["dotr"].bool(),
        normWeight: try vector("w"), normBias: try vector("b"), normEpsilon: epsilon)
    }
  }
}
