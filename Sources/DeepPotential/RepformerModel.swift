/// A DeePMD-kit standard energy model with the DPA-2 descriptor (`dpa2`, @version 3), read from a
/// `.dp` file by `RepformerModelReader`.
///
/// Two stages over one mixed-type neighbour list sorted by distance. `repinit`, a DPA-1 block
/// without attention layers (and optionally the three-body se_e3_tebd block on a prefix of the
/// list), gives every atom its first g1 feature from its own neighbours. The `repformer` layers
/// then update g1 (per atom) and g2 (per edge of the repformer's shorter list, a prefix of the
/// same list) from the previous layer's values, g1 reading the neighbours' g1, so after L layers an
/// atom depends on atoms L repformer cut-offs (plus one repinit cut-off) away. The last g1
/// (with the type embedding appended when `concat_output_tebd`) is the descriptor of one fitting.
public struct RepformerModel: Sendable {
  public let path: String
  public let typeMap: [String]
  /// The repinit block: rcut, sel and networks (its fitting fields unused). Its cut-off is the
  /// model's. Its radial table, when it has one, is the compressed repinit (`tabulated(_:)`).
  var repinit: AttentionModel
  /// The three-body block on the first three_body_sel neighbours within three_body_rcut.
  let threeBody: ScalarDescriptorModel?
  /// [repinit, three-body] → g1_dim (`g1_shape_tranform`; nil where the widths agree: identity).
  let shapeTransform: DenseLayer?
  /// The repformer's list: the first `selection` neighbours within `cutoff` of the repinit list.
  public let cutoff: Double
  let smoothingStart: Double
  public let selection: Int
  /// Per (centre type, slot, component) shift and scale of the repformer's environment rows.
  let average: [Double]
  let deviation: [Double]
  let g1Width, g2Width, axisCount: Int
  /// `direct_dist`: g2 is embedded from r/rcut and the first h2 is r_ij/rcut, instead of the
  /// normalised environment row's s(r) and its last three.
  let directDistance: Bool
  let activation: Activation
  /// 1 → g2_dim, applied to the environment row's s(r)/r, then the activation.
  let g2Embedding: DenseLayer
  let layers: [RepformerLayer]
  /// `use_sqrt_nnei`: the symmetrisations divide by √sel instead of sel.
  let sqrtNormalization: Bool
  /// `g1_out_conv`: the convolution maps g2 to g1_dim and is its own update (else g1 → g2_dim, an input of linear1).
  let convolutionOut: Bool
  /// `g1_out_mlp`: g1's self MLP is its own update (else g1 itself is an input of linear1).
  let selfMLPOut: Bool
  let updateStyle: RepflowModel.UpdateStyle
  /// The type embedding of every type and of padding (a zero last row), (ntypes + 1) × tebd_dim.
  let typeEmbedding: [Double]
  let typeEmbeddingWidth: Int
  let appendsTypeEmbedding: Bool
  let fittings: [DenseNetwork]
  let vacuumEnergy: [Double]
  let fittingBias: [Double]
  let outputBias: [Double]

  /// One repformer layer's maps (absent where its switch is off; the last layer updates g1 only).
  struct RepformerLayer: Sendable {
    /// [g1 (no self MLP), conv (not out), grrg, drrd] → g1_dim, then the activation.
    let linear1: DenseLayer
    let g1SelfMLP: DenseLayer?
    /// g2_dim → g1_dim (g1_out_conv) or g1_dim → g2_dim, no bias.
    let convolution: DenseLayer?
    let hasGrrg: Bool
    let hasDrrd: Bool
    let localAttention: LocalAttention?
    /// g2 updates, nil in the last layer.
    let g2: G2Update?
    /// Residual vectors of the g1 and g2 updates in their order (res_residual), else empty.
    let g1Residuals: [[Double]]
    let g2Residuals: [[Double]]
    /// The h2 update's residual (one number), res_residual with update_h2.
    let h2Residuals: [Double]
  }

  struct G2Update: Sendable {
    let linear2: DenseLayer
    /// g1_dim → g2_dim on g1_i ⊙ g1_j, no bias.
    let g1g1: DenseLayer?
    let attention: PairAttention?
  }

  /// `attn2g_map`: multi-head attention weights over a centre's edge pairs (gated by h2·h2 with
  /// attn2_has_gate), applied to g2 (`attn2_mh_apply` + `attn2_lm`, update_g2_has_attn) and to h2
  /// (`attn2_ev_apply`, update_h2).
  struct PairAttention: Sendable {
    let hidden, heads: Int
    /// g2 → hidden·2·heads (q, k), no bias.
    let queryKey: DenseLayer
    let gate: Bool
    let apply: MultiHeadApply?
    /// heads → 1, no bias: mixes the heads' attention-weighted h2.
    let equivariant: DenseLayer?
  }

  struct MultiHeadApply: Sendable {
    /// g2 → g2·heads (v), no bias; g2·heads → g2; then LayerNorm.
    let value: DenseLayer
    let head: DenseLayer
    let normWeight: [Double], normBias: [Double]
    let normEpsilon: Double
  }

  /// `loc_attn`: multi-head attention of the centre's g1 over its neighbours' g1.
  struct LocalAttention: Sendable {
    let hidden, heads: Int
    /// g1 → hidden·heads (q), g1 → (hidden + g1)·heads (k, v), no bias; g1·heads → g1.
    let query: DenseLayer
    let keyValue: DenseLayer
    let head: DenseLayer
  }

  public var typeCount: Int { typeMap.count }
  public var layerCount: Int { layers.count }
  /// The repinit block's cut-off and sel: the list every block is cut from.
  public var listCutoff: Double { repinit.cutoff }
  public var listSelection: Int { repinit.selection }
  var descriptorWidth: Int { g1Width + (appendsTypeEmbedding ? typeEmbeddingWidth : 0) }
  var repinitWidth: Int { repinit.descriptorWidth + (threeBody?.descriptorWidth ?? 0) }

  public static func load(path: String) throws -> RepformerModel {
    try RepformerModelReader(file: try ModelFile(path: path)).model()
  }

  /// Whether `path` is a `.dp` file whose descriptor is DPA-2 (false for anything unreadable).
  public static func isDPA2(path: String) -> Bool {
    guard let file = try? ModelFile(path: path), let root = try? file.rootNode() else { return false }
    if case .string("dpa2") = root["model"]["descriptor"]["type"].value { return true }
    return false
  }
}
