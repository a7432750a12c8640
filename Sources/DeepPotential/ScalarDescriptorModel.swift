/// A DeePMD-kit standard energy model whose descriptor is one M-wide vector per atom, without
/// se_e2_a's axis matrix: `se_e2_r` (alias `se_r`: two-body, radial only) or `se_e3` (aliases
/// `se_at`, `se_a_3be`, `se_t`: three-body, from the angles between pairs of neighbours), both on
/// type-sectioned neighbour slots (sel per type), or `se_e3_tebd` (se_e3 on one mixed-type section,
/// the types entering through a learned type embedding), all on se_e2_a's environment rows; read
/// by `ScalarDescriptorReader`, evaluated by `ScalarDescriptorEvaluator`.
public struct ScalarDescriptorModel: Sendable {
  public let path: String
  public let typeMap: [String]
  public let cutoff: Double
  let smoothingStart: Double
  let protection: Double
  /// Neighbour slots per neighbour type (se_e3_tebd: one mixed-type section).
  public let selection: [Int]
  let kind: Kind
  /// Per (centre type, slot, component) shift and scale of the environment rows,
  /// [ntypes][nnei][components]: one component (1/r) for se_e2_r, four for se_e3.
  let average: [Double]
  let deviation: [Double]
  /// se_e2_r: one network per neighbour type. se_e3: per pair of neighbour types ti ≤ tj at
  /// ti + ntypes·tj (DeePMD-kit stores the others empty). se_e3_tebd: one.
  let embeddings: [DenseNetwork?]
  /// M1: the networks' width, which is the descriptor's (se_e3_tebd: before the type embedding).
  let embeddingWidth: Int
  /// se_e3_tebd only (otherwise empty, nil, false): the type embedding of every type and of
  /// padding, (ntypes + 1) × tebd_dim with a zero last row; in strip mode N_t([T_a, T_b]) of every
  /// pair of types including padding at row a·(ntypes + 1) + b (nil in concat mode); whether the
  /// strip factor is weighted by both neighbours' switches; whether the descriptor ends with the
  /// centre's type embedding.
  let typeEmbedding: [Double]
  let typeEmbeddingWidth: Int
  let typePairTable: [Double]?
  let smooth: Bool
  let appendsTypeEmbedding: Bool
  /// Descriptor-level excluded type pairs (rows zeroed), ntypes × ntypes.
  let descriptorExcluded: [Bool]
  /// Model-level excluded type pairs (neighbours turned into padding), ntypes × ntypes.
  var pairExcluded: [Bool]
  var atomExcluded: [Bool]
  /// One fitting network per type (the same one for every type when the fitting has mixed types);
  /// empty for a hybrid's part, whose model fits the parts' descriptors together.
  var fittings: [DenseNetwork]
  var vacuumEnergy: [Double]
  var fittingBias: [Double]
  var outputBias: [Double]

  enum Kind: Sendable {
    /// D = (1/5) Σ_k G_{t_k}(R̂_k,0) / nnei.
    case radial
    /// D = Σ_{ti ≤ tj} Σ_{a ∈ ti, b ∈ tj} e_ab G_{ti,tj}(e_ab) / (sel_ti sel_tj), e_ab = R̂_a[1:4]·R̂_b[1:4].
    case threeBody
    /// D = Σ_{a, b} e_ab G_ab / nnei² over one mixed section, G = N([e, T_a, T_b]) (concat) or
    /// N(e) ⊙ (1 + N_t(T_a, T_b) (· w_a w_b when smooth)) (strip).
    case typeEmbeddedThreeBody
  }

  public var typeCount: Int { typeMap.count }
  public var slotCount: Int { selection.reduce(0, +) }
  /// Components of an environment row: 1 (s) for se_e2_r, 4 (s, x, y, z) for se_e3.
  var components: Int { kind == .radial ? 1 : 4 }
  /// One section for all types (se_e3_tebd).
  var mixedTypes: Bool { kind == .typeEmbeddedThreeBody }
  var descriptorWidth: Int { embeddingWidth + (appendsTypeEmbedding ? typeEmbeddingWidth : 0) }
  /// The name DeePMD-kit's input uses, for messages.
  public var descriptorName: String {
    switch kind {
    case .radial: "se_e2_r"
    case .threeBody: "se_e3"
    case .typeEmbeddedThreeBody: "se_e3_tebd"
    }
  }

  public static func load(path: String) throws -> ScalarDescriptorModel {
    try ScalarDescriptorReader(file: try ModelFile(path: path)).model()
  }
}

extension DeepPotentialModel {
  /// A se_e2_r, se_e3 or se_e3_tebd model behind the se_e2_a model's interface (as `init(wrapping:)` of an
  /// `AttentionModel`): callers read type map, r_c, sel and exclusions; the evaluator hands the
  /// work to `ScalarDescriptorEvaluator`.
  init(wrapping model: ScalarDescriptorModel) {
    self.init(path: model.path, typeMap: model.typeMap, cutoff: model.cutoff, smoothingStart: model.smoothingStart,
              selection: model.selection, protection: model.protection, average: [], deviation: [],
              typeOneSide: true, embeddings: [], tables: nil, descriptorExcluded: model.descriptorExcluded,
              pairExcluded: model.pairExcluded, atomExcluded: model.atomExcluded,
              embeddingWidth: model.embeddingWidth, axisCount: 1, fittings: [], vacuumEnergy: model.vacuumEnergy,
              fittingBias: model.fittingBias, outputBias: model.outputBias, minNeighborDistance: nil,
              scalarDescriptor: model)
  }
}

/// Turns a `.dp` document whose descriptor is se_e2_r or se_e3 (@version 1–2) or se_e3_tebd
/// (@version 1), DeePMD-kit 3.2's serialisation, into a `ScalarDescriptorModel`; what this evaluator does not implement is
/// refused by key. The networks' own layers are authoritative for widths, activations and
/// residuals.
struct ScalarDescriptorReader {
  static let radialTypes: Set<String> = ["se_e2_r", "se_r"]
  static let threeBodyTypes: Set<String> = ["se_e3", "se_at", "se_a_3be", "se_t"]
  static let typeEmbeddedTypes: Set<String> = ["se_e3_tebd"]
  static var descriptorTypes: Set<String> { radialTypes.union(threeBodyTypes).union(typeEmbeddedTypes) }
  let file: ModelFile

  func model() throws -> ScalarDescriptorModel {
    try model(StandardModelDocument(file))
  }

  /// The model of `document`, whose descriptor this reader takes.
  func model(_ document: StandardModelDocument) throws -> ScalarDescriptorModel {
    var result = try descriptor(document.node["descriptor"], typeMap: document.typeMap)
    result.attach(try document.fitting(descriptorWidth: result.descriptorWidth))
    return result
  }

  /// The descriptor `d` alone (a model's, or a hybrid's part), without fitting or exclusions
  /// beyond its own.
  func descriptor(_ d: DocumentNode, typeMap: [String]) throws -> ScalarDescriptorModel {
    let n = typeMap.count
    let type = try d["type"].string()
    guard Self.descriptorTypes.contains(type) else {
      throw d["type"].unsupported("descriptor '\(type)' here (this reader takes se_e2_r, se_r, se_e3, se_at, se_t, se_e3_tebd)")
    }
    if Self.typeEmbeddedTypes.contains(type) { return try typeEmbeddedDescriptor(d, typeMap: typeMap) }
    let kind: ScalarDescriptorModel.Kind = Self.radialTypes.contains(type) ? .radial : .threeBody
    // @version 3 adds the `compress` block.
    try d.checkVersion(1...2)
    for key in ["compress", "spin"] where !d[key].isNull {
      throw d[key].unsupported(key == "compress" ? "a compressed \(type) model (compress)" : "a spin descriptor")
    }
    if !d["env_mat"]["use_exp_switch"].isNull, try d["env_mat"]["use_exp_switch"].bool() {
      throw d["env_mat"]["use_exp_switch"].unsupported("the exponential switch (use_exp_switch)")
    }
    let path = file.path
    let cutoff = try d["rcut"].double()
    let smoothingStart = try d["rcut_smth"].double()
    guard cutoff > 0, smoothingStart >= 0, smoothingStart < cutoff else {
      throw DeepPotentialError("\(path): \(d.keyPath): expected 0 <= rcut_smth < rcut, found \(smoothingStart) and \(cutoff)")
    }
    let selection = try d["sel"].ints()
    guard selection.count == n, selection.allSatisfy({ $0 >= 0 }), selection.reduce(0, +) > 0 else {
      throw DeepPotentialError("\(path): \(d["sel"].keyPath): expected \(n) non-negative counts (one per type), found \(selection)")
    }
    let precision = d["precision"].isNull ? "float64" : try d["precision"].string()
    guard ["float64", "double", "default"].contains(precision) else {
      throw d["precision"].unsupported("descriptor precision '\(precision)' (float64 \(type) models only)")
    }
    if kind == .radial, !d["type_one_side"].isNull, try !d["type_one_side"].bool() {
      throw d["type_one_side"].unsupported("type_one_side false (DeePMD-kit's se_e2_r implements only true)")
    }
    let protection = d["env_protection"].isNull ? 0 : try d["env_protection"].double()
    let slots = selection.reduce(0, +)
    let components = kind == .radial ? 1 : 4
    let average = try d["@variables"]["davg"].requiredArray(shape: [n, slots, components]).values
    let deviation = try d["@variables"]["dstd"].requiredArray(shape: [n, slots, components]).values
    guard deviation.allSatisfy({ $0 != 0 }) else {
      throw DeepPotentialError("\(path): \(d.keyPath).@variables.dstd: contains zeros")
    }

    let collection = d["embeddings"]
    let dimensions = kind == .radial ? 1 : 2
    if !collection["ndim"].isNull, try collection["ndim"].int() != dimensions {
      throw DeepPotentialError("\(path): \(collection.keyPath).ndim: expected \(dimensions) for \(type)")
    }
    let networks = try collection["networks"].list()
    let expected = kind == .radial ? n : n * n
    guard networks.count == expected else {
      throw DeepPotentialError("\(path): \(collection.keyPath).networks: expected \(expected) networks, found \(networks.count)")
    }
    var embeddings = try networks.map { $0.isNull ? nil : try DenseNetwork.load($0, inputWidth: 1, outputWidth: nil) }
    if kind == .threeBody {
      // Only ti ≤ tj are evaluated; DeePMD-kit clears the others when it serialises.
      for ti in 0..<n { for tj in 0..<ti { embeddings[ti + n * tj] = nil } }
    }
    guard let width = embeddings.compactMap({ $0?.outputWidth }).first,
          embeddings.allSatisfy({ $0 == nil || $0!.outputWidth == width }) else {
      throw DeepPotentialError("\(path): \(collection.keyPath): embedding networks must exist and share one output width")
    }
    // Every network a neighbour section (or pair of sections) needs must exist.
    for tj in 0..<n {
      for ti in 0..<(kind == .radial ? 1 : tj + 1) {
        let index = kind == .radial ? tj : ti + n * tj
        let needed = kind == .radial ? selection[tj] > 0 : selection[ti] > 0 && selection[tj] > 0
        if needed && embeddings[index] == nil {
          throw DeepPotentialError("\(path): \(collection.keyPath).networks[\(index)]: missing network for neighbour types \(kind == .radial ? "\(tj)" : "(\(ti), \(tj))")")
        }
      }
    }

    let none = [Bool](repeating: false, count: n)
    return ScalarDescriptorModel(
      path: path, typeMap: typeMap, cutoff: cutoff, smoothingStart: smoothingStart, protection: protection,
      selection: selection, kind: kind, average: average, deviation: deviation, embeddings: embeddings,
      embeddingWidth: width, typeEmbedding: [], typeEmbeddingWidth: 0, typePairTable: nil, smooth: false,
      appendsTypeEmbedding: false, descriptorExcluded: try d["exclude_types"].typePairs(typeCount: n),
      pairExcluded: [Bool](repeating: false, count: n * n), atomExcluded: none, fittings: [],
      vacuumEnergy: [], fittingBias: [], outputBias: [])
  }

  /// se_e3_tebd (@version 1): one mixed section, the type embedding, concat or strip mode.
  private func typeEmbeddedDescriptor(_ d: DocumentNode, typeMap: [String]) throws -> ScalarDescriptorModel {
    let n = typeMap.count, path = file.path
    try d.checkVersion(1...1)
    for key in ["compress", "spin"] where !d[key].isNull {
      throw d[key].unsupported(key == "compress" ? "a compressed se_e3_tebd model (compress)" : "a spin descriptor")
    }
    for key in ["use_econf_tebd", "use_tebd_bias"] where !d[key].isNull {
      if try d[key].bool() { throw d[key].unsupported("\(key) true") }
    }
    if !d["env_mat"]["use_exp_switch"].isNull, try d["env_mat"]["use_exp_switch"].bool() {
      throw d["env_mat"]["use_exp_switch"].unsupported("the exponential switch (use_exp_switch)")
    }
    let cutoff = try d["rcut"].double()
    let smoothingStart = try d["rcut_smth"].double()
    guard cutoff > 0, smoothingStart >= 0, smoothingStart < cutoff else {
      throw DeepPotentialError("\(path): \(d.keyPath): expected 0 <= rcut_smth < rcut, found \(smoothingStart) and \(cutoff)")
    }
    let counts: [Int]
    if case .number = d["sel"].value { counts = [try d["sel"].int()] } else { counts = try d["sel"].ints() }
    guard counts.count == 1, counts[0] > 0 else {
      throw DeepPotentialError("\(path): \(d["sel"].keyPath): expected one positive neighbour count (mixed types), found \(counts)")
    }
    let slots = counts[0]
    let precision = d["precision"].isNull ? "float64" : try d["precision"].string()
    guard ["float64", "double", "default"].contains(precision) else {
      throw d["precision"].unsupported("descriptor precision '\(precision)' (float64 se_e3_tebd models only)")
    }
    let mode = d["tebd_input_mode"].isNull ? "concat" : try d["tebd_input_mode"].string()
    guard mode == "concat" || mode == "strip" else {
      throw d["tebd_input_mode"].unsupported("tebd_input_mode '\(mode)' (concat or strip)")
    }
    let typeEmbedding = try AttentionModelReader(file: file).readTypeEmbedding(d["type_embedding"], typeCount: n)
    let tebd = typeEmbedding.count / (n + 1)
    if !d["tebd_dim"].isNull, try d["tebd_dim"].int() != tebd {
      throw DeepPotentialError("\(path): \(d["tebd_dim"].keyPath): expected \(tebd), the type embedding's width")
    }
    let average = try d["@variables"]["davg"].requiredArray(shape: [n, slots, 4]).values
    let deviation = try d["@variables"]["dstd"].requiredArray(shape: [n, slots, 4]).values
    guard deviation.allSatisfy({ $0 != 0 }) else {
      throw DeepPotentialError("\(path): \(d.keyPath).@variables.dstd: contains zeros")
    }
    func single(_ collection: DocumentNode, inputWidth: Int) throws -> DenseNetwork {
      let networks = try collection["networks"].list()
      guard networks.count == 1, !networks[0].isNull else {
        throw DeepPotentialError("\(path): \(collection.keyPath).networks: expected one network, found \(networks.count)")
      }
      return try DenseNetwork.load(networks[0], inputWidth: inputWidth, outputWidth: nil)
    }
    let network = try single(d["embeddings"], inputWidth: mode == "concat" ? 1 + 2 * tebd : 1)
    let width = network.outputWidth
    var table: [Double]? = nil
    if mode == "strip" {
      let strip = try single(d["embeddings_strip"], inputWidth: 2 * tebd)
      guard strip.outputWidth == width else {
        throw DeepPotentialError("\(path): \(d["embeddings_strip"].keyPath): gives \(strip.outputWidth) outputs, expected \(width)")
      }
      table = Self.threeBodyTypePairTable(strip, typeEmbedding: typeEmbedding, typeCount: n)
    }
    return ScalarDescriptorModel(
      path: path, typeMap: typeMap, cutoff: cutoff, smoothingStart: smoothingStart,
      protection: d["env_protection"].isNull ? 0 : try d["env_protection"].double(), selection: [slots],
      kind: .typeEmbeddedThreeBody, average: average, deviation: deviation, embeddings: [network],
      embeddingWidth: width, typeEmbedding: typeEmbedding, typeEmbeddingWidth: tebd, typePairTable: table,
      smooth: d["smooth"].isNull ? true : try d["smooth"].bool(),
      appendsTypeEmbedding: d["concat_output_tebd"].isNull ? true : try d["concat_output_tebd"].bool(),
      descriptorExcluded: try d["exclude_types"].typePairs(typeCount: n),
      pairExcluded: [Bool](repeating: false, count: n * n), atomExcluded: [Bool](repeating: false, count: n),
      fittings: [], vacuumEnergy: [], fittingBias: [], outputBias: [])
  }

  /// se_e3_tebd's strip factor N_t([T_a, T_b]) of every pair of types, padding included, row a·(ntypes+1) + b.
  static func threeBodyTypePairTable(_ strip: DenseNetwork, typeEmbedding: [Double], typeCount n: Int) -> [Double] {
    let padded = n + 1, tebd = typeEmbedding.count / padded
    let tape = NetworkTape(strip, capacity: padded * padded)
    for row in 0..<(padded * padded) {
      let (a, b) = (row / padded, row % padded), input = tape.input + row * 2 * tebd
      for c in 0..<tebd {
        input[c] = typeEmbedding[a * tebd + c]
        input[tebd + c] = typeEmbedding[b * tebd + c]
      }
    }
    tape.forward(rows: padded * padded)
    return Array(UnsafeBufferPointer(start: tape.output, count: padded * padded * strip.outputWidth))
  }
}
