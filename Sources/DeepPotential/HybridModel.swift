/// A DeePMD-kit standard energy model with a `hybrid` descriptor: a list of descriptors, each with
/// its own r_c and sel, whose outputs are concatenated into one fitting network's input. As in
/// DeePMD-kit (`deepmd/pt/model/descriptor/hybrid.py`), one neighbour list serves every part: built
/// with the largest r_c and a selection covering every part's (mixed types when any part is DPA-1),
/// then cut per part (`HybridEvaluator.distribute`). Read by `HybridModelReader`.
public struct HybridModel: Sendable {
  public let path: String
  public let typeMap: [String]
  /// The largest part's r_c: the neighbour list's.
  public let cutoff: Double
  /// The one selection's slots: mixed types (one section, the largest part's Σsel) when some part
  /// is DPA-1, otherwise per type the largest part's sel.
  public let selection: [Int]
  let mixedTypes: Bool
  let parts: [Part]
  let pairExcluded: [Bool]
  let atomExcluded: [Bool]
  let fittings: [DenseNetwork]
  let vacuumEnergy: [Double]
  let fittingBias: [Double]
  let outputBias: [Double]

  /// One descriptor of the list, read without fitting (its model-level fields are unused).
  enum Part: Sendable {
    case angular(DeepPotentialModel)
    case attention(AttentionModel)
    case scalar(ScalarDescriptorModel)

    var cutoff: Double {
      switch self {
      case .angular(let m): m.cutoff
      case .attention(let m): m.cutoff
      case .scalar(let m): m.cutoff
      }
    }
    /// Slots per section: one section for DPA-1, one per type otherwise.
    var selection: [Int] {
      switch self {
      case .angular(let m): m.selection
      case .attention(let m): [m.selection]
      case .scalar(let m): m.selection
      }
    }
    var mixedTypes: Bool {
      switch self {
      case .angular: false
      case .attention: true
      case .scalar(let m): m.mixedTypes
      }
    }
    var descriptorWidth: Int {
      switch self {
      case .angular(let m): m.embeddingWidth * m.axisCount
      case .attention(let m): m.descriptorWidth
      case .scalar(let m): m.descriptorWidth
      }
    }
  }

  public var typeCount: Int { typeMap.count }
  var descriptorWidth: Int { parts.map(\.descriptorWidth).reduce(0, +) }

  public static func load(path: String) throws -> HybridModel {
    try HybridModelReader(file: try ModelFile(path: path)).model()
  }
}

extension DeepPotentialModel {
  /// A hybrid model behind the se_e2_a model's interface (see `init(wrapping:)` of an
  /// `AttentionModel`): `selection` is the one neighbour selection's.
  init(wrapping model: HybridModel) {
    let none = [Bool](repeating: false, count: model.typeCount * model.typeCount)
    self.init(path: model.path, typeMap: model.typeMap, cutoff: model.cutoff, smoothingStart: 0,
              selection: model.selection, protection: 0, average: [], deviation: [], typeOneSide: true,
              embeddings: [], tables: nil, descriptorExcluded: none, pairExcluded: model.pairExcluded,
              atomExcluded: model.atomExcluded, embeddingWidth: model.descriptorWidth, axisCount: 1, fittings: [],
              vacuumEnergy: model.vacuumEnergy, fittingBias: model.fittingBias, outputBias: model.outputBias,
              minNeighborDistance: nil, hybrid: model)
  }

  /// A se_e2_a descriptor alone, as a hybrid's part: no fitting, no model-level exclusions.
  init(part d: AngularDescriptor, path: String, typeMap: [String]) {
    let n = typeMap.count
    self.init(path: path, typeMap: typeMap, cutoff: d.cutoff, smoothingStart: d.smoothingStart, selection: d.selection,
              protection: d.protection, average: d.average, deviation: d.deviation, typeOneSide: d.typeOneSide,
              embeddings: d.embeddings, tables: nil, descriptorExcluded: d.excluded,
              pairExcluded: [Bool](repeating: false, count: n * n), atomExcluded: [Bool](repeating: false, count: n),
              embeddingWidth: d.embeddingWidth, axisCount: d.axisCount, fittings: [], vacuumEnergy: [],
              fittingBias: [], outputBias: [], minNeighborDistance: nil)
  }
}

/// Turns a `.dp` document whose descriptor is `hybrid` (@version 1) into a `HybridModel`: every
/// part through its own descriptor reader; what is not implemented is refused by key.
struct HybridModelReader {
  let file: ModelFile

  func model() throws -> HybridModel {
    try model(StandardModelDocument(file))
  }

  /// The model of `document`, whose descriptor is a hybrid.
  func model(_ document: StandardModelDocument) throws -> HybridModel {
    let model = document.node, typeMap = document.typeMap
    let n = typeMap.count
    let d = model["descriptor"]
    try d.checkVersion(1...1)
    let list = try d["list"].list()
    guard !list.isEmpty else { throw DeepPotentialError("\(file.path): \(d["list"].keyPath): expected at least one descriptor") }
    let parts = try list.map { try part($0, typeMap: typeMap) }
    let cutoff = parts.map(\.cutoff).max()!
    // A DPA-1 part with a shorter r_c than the list's gets neighbours beyond its r_c in its slots
    // (DeePMD-kit does not drop them): with a smooth strip type embedding and smooth attention
    // their switch of zero makes them padding; otherwise their type would enter, which the
    // evaluator does not reproduce.
    for (k, p) in parts.enumerated() where p.cutoff < cutoff {
      if case .attention(let a) = p {
        var smooth = a.smooth && a.attentionLayers.allSatisfy(\.smooth)
        if case .concat = a.inputMode { smooth = false }
        if !smooth {
          throw list[k].unsupported("a concat or non-smooth DPA-1 part with an rcut below the hybrid's (\(a.cutoff) < \(cutoff))")
        }
      }
      if case .scalar(let m) = p, m.mixedTypes, m.typePairTable == nil || !m.smooth {
        throw list[k].unsupported("a concat or non-smooth se_e3_tebd part with an rcut below the hybrid's (\(m.cutoff) < \(cutoff))")
      }
    }
    let mixedTypes = parts.contains(where: \.mixedTypes)
    // Per type the largest sel of the type-sectioned parts (DeePMD-kit's sel_no_mixed_types when
    // the list is mixed); the mixed list holds the largest Σsel of any part.
    let sectioned = parts.filter { !$0.mixedTypes }.map(\.selection)
    let typeSelection = (0..<n).map { t in sectioned.map { $0[t] }.max() ?? 0 }
    let selection = mixedTypes ? [parts.map { $0.selection.reduce(0, +) }.max()!] : typeSelection

    let fit = try document.fitting(descriptorWidth: parts.map(\.descriptorWidth).reduce(0, +))
    return HybridModel(
      path: file.path, typeMap: typeMap, cutoff: cutoff, selection: selection, mixedTypes: mixedTypes, parts: parts,
      pairExcluded: fit.pairExcluded, atomExcluded: fit.atomExcluded, fittings: fit.fittings,
      vacuumEnergy: fit.vacuumEnergy, fittingBias: fit.fittingBias, outputBias: fit.outputBias)
  }

  private func part(_ node: DocumentNode, typeMap: [String]) throws -> HybridModel.Part {
    let type = try node["type"].string()
    if !node["compress"].isNull { throw node["compress"].unsupported("a compressed part of a hybrid descriptor") }
    if type == "se_e2_a" || type == "se_a" {
      return .angular(DeepPotentialModel(part: try AngularDescriptor(node, typeCount: typeMap.count), path: file.path,
                                         typeMap: typeMap))
    }
    if AttentionModelReader.descriptorTypes.contains(type) {
      return .attention(try AttentionModelReader(file: file).descriptor(node, typeMap: typeMap))
    }
    if ScalarDescriptorReader.descriptorTypes.contains(type) {
      return .scalar(try ScalarDescriptorReader(file: file).descriptor(node, typeMap: typeMap))
    }
    throw node["type"].unsupported("descriptor '\(type)' inside a hybrid (se_e2_a, se_e2_r, se_e3, dpa1, se_atten, se_atten_v2 are)")
  }
}
