/// A DeePMD-kit standard energy model with the DPA-1 descriptor (`dpa1`, alias `se_atten`, and its
/// preset `se_atten_v2`), read from a `.dp` file by `AttentionModelReader`.
///
/// One neighbour section of `selection` slots for all types (mixed types): the type enters through
/// a learned type embedding, either concatenated to the radial input of one embedding network
/// (concat) or as a factor from a second network over type pairs (strip); a stack of gated
/// self-attention layers over the neighbours follows, then se_e2_a's contraction and one fitting
/// network for every type.
public struct AttentionModel: Sendable {
  public let path: String
  public let typeMap: [String]
  public let cutoff: Double
  let smoothingStart: Double
  let protection: Double
  /// Neighbour slots (Σsel; one section).
  public let selection: Int
  /// Per (centre type, slot, component) shift and scale of the environment rows, [ntypes][nnei][4].
  let average: [Double]
  let deviation: [Double]
  /// M1 (embedding width) and M2 (axis neurons).
  let embeddingWidth: Int
  let axisCount: Int
  /// The type embedding of every type and of padding (a zero last row), (ntypes + 1) × tebd_dim.
  let typeEmbedding: [Double]
  let typeEmbeddingWidth: Int
  let typeOneSide: Bool
  let inputMode: InputMode
  /// `smooth_type_embedding`: the strip factor is weighted by the switch.
  let smooth: Bool
  let attentionLayers: [AttentionLayer]
  /// The descriptor ends with the centre's type embedding (`concat_output_tebd`).
  let appendsTypeEmbedding: Bool
  /// Descriptor-level excluded type pairs (neighbour masked out, row zeroed), ntypes × ntypes.
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
  /// The strip mode's radial network N(s) tabulated (DeePMD-kit's compressed DPA-1, or
  /// `tabulated(_:)` at load), used instead of the network; nil evaluates the network.
  var radialTable: EmbeddingTable? = nil
  /// The training data's nearest neighbour distance (Å) when the file records it (`min_nbor_dist`).
  var minNeighborDistance: Double? = nil

  enum InputMode: Sendable {
    /// G = N([s, T_j(, T_i)]): the type embeddings are inputs of the one embedding network.
    case concat(DenseNetwork)
    /// G = N(s) ⊙ (1 + N_t([T_j, T_i])): `typeTable` holds N_t of every (centre, neighbour) pair
    /// of types including padding, row ti·(ntypes+1) + tj ((ntypes+1) rows when type_one_side).
    case strip(DenseNetwork, typeTable: [Double])
  }

  /// One gated self-attention layer with its post-norm residual: G ← LN(G + out(attention(G))).
  struct AttentionLayer: Sendable {
    /// M1 → 3·hidden (q, k, v) and hidden → M1.
    let inputProjection: DenseLayer
    let outputProjection: DenseLayer
    let hidden: Int
    /// q is multiplied by this: (head_dim · scaling_factor)^-½, or `temperature` when set.
    let scaling: Double
    let normalizes: Bool
    /// Scores weighted by the switch of both neighbours (no −∞ mask).
    let smooth: Bool
    /// Scores weighted by the cosine r̂_a·r̂_b of the two neighbours (`dotr`).
    let dotProductGate: Bool
    /// LayerNorm γ and β (nil: 1 and 0), and ε.
    let normWeight: [Double]?
    let normBias: [Double]?
    let normEpsilon: Double
  }

  public var typeCount: Int { typeMap.count }
  var descriptorWidth: Int { embeddingWidth * axisCount + (appendsTypeEmbedding ? typeEmbeddingWidth : 0) }

  public static func load(path: String) throws -> AttentionModel {
    try AttentionModelReader(file: try ModelFile(path: path)).model()
  }
}

extension DeepPotentialModel {
  /// A DPA-1 model behind the se_e2_a model's interface, so that every caller of
  /// `DeepPotentialModel.load` and `DeepPotentialEvaluator` runs it unchanged: `selection` is its one
  /// mixed-type section; the se_e2_a networks and statistics are empty.
  init(wrapping model: AttentionModel) {
    self.init(path: model.path, typeMap: model.typeMap, cutoff: model.cutoff, smoothingStart: model.smoothingStart,
              selection: [model.selection], protection: model.protection, average: [], deviation: [],
              typeOneSide: model.typeOneSide, embeddings: [], tables: nil,
              descriptorExcluded: model.descriptorExcluded, pairExcluded: model.pairExcluded,
              atomExcluded: model.atomExcluded, embeddingWidth: model.embeddingWidth, axisCount: model.axisCount,
              fittings: [], vacuumEnergy: model.vacuumEnergy, fittingBias: model.fittingBias,
              outputBias: model.outputBias, minNeighborDistance: model.minNeighborDistance, attention: model)
  }
}
