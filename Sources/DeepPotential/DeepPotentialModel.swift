/// A DeePMD-kit standard energy model with the se_e2_a descriptor, read from a `.dp` file.
///
/// Everything the evaluation needs is checked here, so a model that loads is evaluated exactly as
/// DeePMD-kit does; anything this reader does not implement is refused by key.
public struct DeepPotentialModel: Sendable {
  public let path: String
  /// Element names; model type t is `typeMap[t]`.
  public let typeMap: [String]
  /// r_c (Å): neighbours farther than this do not contribute.
  public let cutoff: Double
  /// r_s (Å): where the switching function starts.
  let smoothingStart: Double
  /// Neighbour slots per neighbour type.
  public let selection: [Int]
  let protection: Double
  /// Per (centre type, slot, component) shift and scale of the environment rows, [ntypes][nnei][4].
  let average: [Double]
  let deviation: [Double]
  let typeOneSide: Bool
  /// Embedding networks by collection index: neighbour type, or centre + ntypes·neighbour type.
  let embeddings: [DenseNetwork?]
  /// Tabulated embeddings (`dp compress`, or `tabulated(_:)` at load), used instead of the networks.
  var tables: [EmbeddingTable?]?
  /// Descriptor-level excluded type pairs (rows zeroed), ntypes × ntypes.
  let descriptorExcluded: [Bool]
  /// Model-level excluded type pairs (neighbours turned into padding), ntypes × ntypes.
  let pairExcluded: [Bool]
  /// Types whose atomic energy is zero.
  let atomExcluded: [Bool]
  /// M1 (embedding width) and M2 (axis neurons).
  let embeddingWidth: Int
  let axisCount: Int
  /// With fparam/aparam (`parameters`), the networks with their values folded in (`withParameters`).
  var fittings: [DenseNetwork]
  /// Per type: subtracted fitting output at a zero descriptor (`atom_ener`), then the two biases.
  var vacuumEnergy: [Double]
  let fittingBias: [Double]
  let outputBias: [Double]
  /// The training data's nearest neighbour distance (Å), when the file records it (`min_nbor_dist`,
  /// written by `dp compress`); tabulation needs it.
  public let minNeighborDistance: Double?
  /// A DPA-1 model (`dpa1`, `se_atten`, `se_atten_v2`): then this value only carries what callers
  /// read (type map, r_c, sel, exclusions) and the evaluator hands the work to `AttentionEvaluator`.
  var attention: AttentionModel? = nil
  /// A se_e2_r, se_e3 or se_e3_tebd model: likewise only the callers' fields here, the work done by
  /// `ScalarDescriptorEvaluator`.
  var scalarDescriptor: ScalarDescriptorModel? = nil
  /// A hybrid model: likewise, the work done by `HybridEvaluator`.
  var hybrid: HybridModel? = nil
  /// The fitting's fparam/aparam inputs (numb_fparam/numb_aparam > 0), and the values given for them.
  var parameters: FittingParameters? = nil
  public internal(set) var parameterValues: (frame: [Double], atom: [Double])? = nil

  public var typeCount: Int { typeMap.count }
  public var slotCount: Int { selection.reduce(0, +) }
  public var isCompressed: Bool { tables != nil || attention?.radialTable != nil }
  /// Whether the descriptor is DPA-1 (type-embedded, attention over one mixed-type section).
  public var isAttentionModel: Bool { attention != nil }
  /// The descriptor's name when it is not se_e2_a (whose kernels, tables and float32 path are
  /// se_e2_a's own): "DPA-1", "se_e2_r", "se_e3", "hybrid"; nil for se_e2_a.
  public var otherDescriptorName: String? {
    attention != nil ? "DPA-1" : hybrid != nil ? "hybrid" : scalarDescriptor?.descriptorName
  }

  /// Reads a `.dp` (HDF5, recognised by its signature) or a TensorFlow frozen graph (`.pb`).
  public static func load(path: String) throws -> DeepPotentialModel {
    if !FrozenGraph.startsWithHDF5Signature(path: path), path.lowercased().hasSuffix(".pb") {
      return try FrozenGraphReader(graph: try FrozenGraph(path: path)).model()
    }
    return try ModelReader(file: try ModelFile(path: path)).model()
  }

  /// Whether `other` chooses the same neighbour slots from the same atoms (same r_c, sel, type map
  /// and pair exclusions), so that an ensemble may select once for both.
  public func selectsLike(_ other: DeepPotentialModel) -> Bool {
    cutoff == other.cutoff && selection == other.selection && typeMap == other.typeMap
      && pairExcluded == other.pairExcluded && otherDescriptorName == nil && other.otherDescriptorName == nil
  }

  func embeddingIndex(centre: Int, neighbor: Int) -> Int {
    typeOneSide ? neighbor : centre + typeCount * neighbor
  }
}
