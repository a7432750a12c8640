/// A DeePMD-kit standard energy model with the DPA-3 descriptor (`dpa3`, @version 2), read from a
/// `.dp` file by `RepflowModelReader`.
///
/// A message-passing network over one mixed-type neighbour list sorted by distance: every atom
/// carries a node feature (n_dim), every edge i→j within e_rcut an edge feature (e_dim), every
/// pair (j, k) of i's neighbours within a_rcut an angle feature (a_dim). Each repflow layer
/// updates all three from the previous layer's values, the node update reading the neighbours'
/// node features, so after L layers an atom depends on atoms L cut-offs away. The last layer's
/// node feature is the descriptor of one fitting network.
public struct RepflowModel: Sendable {
  public let path: String
  public let typeMap: [String]
  /// e_rcut, e_rcut_smth, e_sel: the edge list (also the model's cut-off).
  public let cutoff: Double
  let smoothingStart: Double
  public let selection: Int
  /// a_rcut, a_rcut_smth, a_sel: the angle list, a prefix of the edge list.
  public let angleCutoff: Double
  let angleSmoothingStart: Double
  let angleSelection: Int
  let nodeWidth, edgeWidth, angleWidth, axisCount: Int
  /// What the edge and angle reductions divide by: e_sel and a_sel, or with `use_dynamic_sel` e_sel
  /// / sel_reduce_factor and a_sel / sel_reduce_factor (the same neighbours, other normalisations).
  let edgeNormalization, angleNormalization: Double
  /// `use_exp_switch`: exp(−exp(20 (r − r_s)/r_s)) instead of the quintic switch.
  let exponentialSwitch: Bool
  /// `edge_init_use_dist`: the edge embedding reads r (no activation) instead of the normalised s(r)/r.
  let edgeInitUsesDistance: Bool
  /// `smooth_edge_update`: edges outside the angle list get the angle message of zero instead of
  /// keeping their own feature as that message.
  let smoothEdgeUpdate: Bool
  let activation: Activation
  let updateStyle: UpdateStyle
  /// Per (centre type, slot, component) shift and scale of the edge environment rows, [ntypes][e_sel][4].
  let average: [Double]
  let deviation: [Double]
  /// The type embedding of every type and of padding (a zero last row), (ntypes + 1) × n_dim.
  let typeEmbedding: [Double]
  /// 1 → e_dim (with bias) and 1 → a_dim (without).
  let edgeEmbedding: DenseLayer
  let angleEmbedding: DenseLayer
  let layers: [RepflowLayer]
  /// The descriptor ends with the centre's type embedding (`concat_output_tebd`).
  let appendsTypeEmbedding: Bool
  let fittings: [DenseNetwork]
  let vacuumEnergy: [Double]
  let fittingBias: [Double]
  let outputBias: [Double]

  /// How a layer combines a feature u with its updates u_1 … u_n (`update_style`).
  enum UpdateStyle: Sendable, Equatable {
    /// u + Σ r_k ⊙ u_k, with the layer's learned residual vectors.
    case residual
    /// (u + Σ u_k) / √(n + 1).
    case average
    /// u + Σ u_k / √n.
    case increment
  }

  /// One repflow layer's linear maps (the activation is the descriptor's, applied outside them)
  /// and, for `res_residual`, its residual vectors: node [self, sym, edge message], edge [self,
  /// angle], angle [self].
  struct RepflowLayer: Sendable {
    /// n_dim → n_dim.
    let nodeSelf: DenseLayer
    /// axis·e_dim + axis·n_dim → n_dim: reads [grrg(edges), grrg(neighbour nodes)].
    let nodeSymmetric: DenseLayer
    /// [node_i, node_j, edge_ij] → n_dim and → e_dim.
    let nodeEdge: DenseLayer
    let edgeSelf: DenseLayer
    /// [angle_jk, node_i, edge_ik, edge_ij] → e_dim, then e_dim → e_dim; the same input → a_dim.
    let edgeAngle1: DenseLayer
    let edgeAngle2: DenseLayer
    let angleSelf: DenseLayer
    let angleCompression: AngleCompression
    let nodeResiduals: [[Double]]
    let edgeResiduals: [[Double]]
    let angleResiduals: [[Double]]
  }

  /// How the node and edge features enter a layer's angle updates (`a_compress_rate`): whole, or
  /// compressed to `nodeWidth` and `edgeWidth` components — their first ones (`a_compress_use_split`)
  /// or by the layer's linear maps without bias (`a_compress_n_linear`, `a_compress_e_linear`).
  struct AngleCompression: Sendable {
    let nodeWidth, edgeWidth: Int
    let node: DenseLayer?, edge: DenseLayer?

    /// The first `width` components of x, or x·W.
    static func apply(_ map: DenseLayer?, width: Int, _ x: ArraySlice<Double>) -> [Double] {
      guard let map else { return Array(x.prefix(width)) }
      var y = [Double](repeating: 0, count: width)
      for (r, v) in x.enumerated() { for o in 0..<width { y[o] += v * map.weights[r * width + o] } }
      return y
    }

    /// Adds ∂E/∂x into `gradient[start...]` given ∂E/∂ of `apply(map, width:, x)`.
    static func backward(_ map: DenseLayer?, width: Int, _ g: [Double], into gradient: inout [Double], at start: Int) {
      guard let map else {
        for o in 0..<width { gradient[start + o] += g[o] }
        return
      }
      for r in 0..<map.inputWidth {
        var sum = 0.0
        for o in 0..<width { sum += map.weights[r * width + o] * g[o] }
        gradient[start + r] += sum
      }
    }
  }

  public var typeCount: Int { typeMap.count }
  public var layerCount: Int { layers.count }
  var descriptorWidth: Int { nodeWidth + (appendsTypeEmbedding ? nodeWidth : 0) }

  public static func load(path: String) throws -> RepflowModel {
    try RepflowModelReader(file: try ModelFile(path: path)).model()
  }
}

extension RepflowModel {
  /// Whether `path` is a `.dp` file whose descriptor is DPA-3 (false for anything unreadable, which
  /// the general loader then reports).
  public static func isDPA3(path: String) -> Bool {
    guard let file = try? ModelFile(path: path), let root = try? file.rootNode() else { return false }
    if case .string("dpa3") = root["model"]["descriptor"]["type"].value { return true }
    return false
  }
}
