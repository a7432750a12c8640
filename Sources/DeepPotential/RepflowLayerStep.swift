/// One repflow layer applied to one owned atom (DeePMD-kit's `RepFlowLayer.call`, parallel mode:
/// every update reads the layer's input node, edge and angle features):
///
///   node  ← combine(node, [φ(self(node)), φ(sym([grrg(edges), grrg(neighbour nodes)])),
///                          Σ_j φ(W[node_i, node_j, edge_ij]) s_ij / e_sel])
///   edge  ← combine(edge, [φ(W_e[node_i, node_j, edge_ij]), φ(W_2 m_ij)]),
///           m_ij = Σ_k s^a_ij s^a_ik φ(W_1[angle_jk, node_i, edge_ik, edge_ij]) / √a_sel
///           (edges outside the angle list: m = 0 with smooth_edge_update, else edge_ij itself)
///   angle ← combine(angle, [φ(W_a[angle_jk, node_i, edge_ik, edge_ij])])
///
/// with grrg(g) = (Σ_j h_ij ⊗ g_j s_ij / √e_sel)ᵀ[:axis] · (…) / 3 and h_ij the normalised
/// environment row's vector part. The edges and angles of atom i are its own and are updated in
/// place; the node goes to `next` (the neighbours' nodes are read from the layer's input).
struct RepflowLayerStep {
  let model: RepflowModel
  let layer: RepflowModel.RepflowLayer

  func update(atom i: Int, graph g: RepflowGraph, nodes: [Double], next: inout [Double],
                       edges: inout [Double], angles: inout [Double]) {
    let m = model, nd = m.nodeWidth, ne = m.edgeWidth, na = m.angleWidth
    let e0 = g.edgeStart[i], count = g.edgeStart[i + 1] - e0
    let a = g.angleCount[i], p0 = g.angleStart[i], s0 = g.angleNeighborStart[i]
    let node = Array(nodes[i * nd..<(i + 1) * nd])
    func edge(_ e: Int) -> ArraySlice<Double> { edges[(e0 + e) * ne..<(e0 + e + 1) * ne] }
    func neighborNode(_ e: Int) -> ArraySlice<Double> { let j = g.neighbor[e0 + e]; return nodes[j * nd..<(j + 1) * nd] }

    // Node: self MLP, symmetrised edges and neighbour nodes, switched edge messages.
    let selfUpdate = activated(layer.nodeSelf, node)
    var edgeMoment = [Double](repeating: 0, count: 3 * ne), nodeMoment = [Double](repeating: 0, count: 3 * nd)
    let momentScale = 1 / m.edgeNormalization.squareRoot()
    for e in 0..<count {
      let w = g.edgeSwitch[e0 + e]
      let ge = edge(e), gn = neighborNode(e)
      for d in 0..<3 {
        let h = g.environment[4 * (e0 + e) + 1 + d] * w
        for c in 0..<ne { edgeMoment[d * ne + c] += h * ge[ge.startIndex + c] }
        for c in 0..<nd { nodeMoment[d * nd + c] += h * gn[gn.startIndex + c] }
      }
    }
    let symmetric = activated(layer.nodeSymmetric,
                              invariant(edgeMoment.map { $0 * momentScale }, width: ne)
                                + invariant(nodeMoment.map { $0 * momentScale }, width: nd))
    var message = [Double](repeating: 0, count: nd)
    var edgeSelf: [[Double]] = []
    for e in 0..<count {
      let input = node + neighborNode(e) + edge(e)
      let w = g.edgeSwitch[e0 + e]
      for (c, v) in activated(layer.nodeEdge, input).enumerated() { message[c] += v * w }
      edgeSelf.append(activated(layer.edgeSelf, input))
    }
    let updated = combine(node, [selfUpdate, symmetric, message.map { $0 / m.edgeNormalization }], layer.nodeResiduals)

    // Angles, and the angle messages of the edges they join.
    let toEdge = AngleProjection(layer.edgeAngle1, model: m, compression: layer.angleCompression, node: node, edges: edges,
                                 firstEdge: e0, count: a)
    let toAngle = AngleProjection(layer.angleSelf, model: m, compression: layer.angleCompression, node: node, edges: edges,
                                  firstEdge: e0, count: a)
    let (own, update) = angleCoefficients
    var reduced = [Double](repeating: 0, count: a * ne)
    var newAngles = [Double](repeating: 0, count: a * a * na)
    var z1 = [Double](repeating: 0, count: ne), z2 = [Double](repeating: 0, count: na)
    for j in 0..<a {
      for k in 0..<a {
        let row = (p0 + j * a + k) * na
        toEdge.z(angles, angleRow: row, j: j, k: k, into: &z1)
        let w = g.angleSwitch[s0 + j] * g.angleSwitch[s0 + k]
        for c in 0..<ne { reduced[j * ne + c] += w * m.activation.value(z1[c]) }
        toAngle.z(angles, angleRow: row, j: j, k: k, into: &z2)
        for c in 0..<na { newAngles[(j * a + k) * na + c] = own * angles[row + c] + update[c] * m.activation.value(z2[c]) }
      }
    }
    let angleScale = 1 / m.angleNormalization.squareRoot()
    for e in 0..<count {
      let own = Array(edge(e))
      let angleMessage = e < a ? reduced[e * ne..<(e + 1) * ne].map { $0 * angleScale }
        : m.smoothEdgeUpdate ? [Double](repeating: 0, count: ne) : own
      let next = combine(own, [edgeSelf[e], activated(layer.edgeAngle2, angleMessage)], layer.edgeResiduals)
      edges.replaceSubrange((e0 + e) * ne..<(e0 + e + 1) * ne, with: next)
    }
    angles.replaceSubrange(p0 * na..<(p0 + a * a) * na, with: newAngles)
    next.replaceSubrange(i * nd..<(i + 1) * nd, with: updated)
  }

  /// The angle update is combine(angle, [u]) = α·angle + β ⊙ u: (α, β) by the update style.
  var angleCoefficients: (Double, [Double]) {
    switch model.updateStyle {
    case .residual: return (1, layer.angleResiduals[0])
    case .average: return (1 / 2.0.squareRoot(), [Double](repeating: 1 / 2.0.squareRoot(), count: model.angleWidth))
    case .increment: return (1, [Double](repeating: 1, count: model.angleWidth))
    }
  }

  /// φ(x·W + b) with the descriptor's activation.
  private func activated(_ l: DenseLayer, _ x: [Double]) -> [Double] {
    affine(l, x).map(model.activation.value)
  }

  /// x·W + b (rows of W contiguous: the inner loop over outputs vectorises).
  func affine(_ l: DenseLayer, _ x: [Double]) -> [Double] {
    var y = l.bias ?? [Double](repeating: 0, count: l.outputWidth)
    let n = l.outputWidth
    y.withUnsafeMutableBufferPointer { out in
      l.weights.withUnsafeBufferPointer { w in
        x.withUnsafeBufferPointer { input in
          for r in 0..<l.inputWidth {
            let v = input[r], row = w.baseAddress! + r * n
            for o in 0..<n { out[o] += v * row[o] }
          }
        }
      }
    }
    return y
  }

  /// grrg: the first `axisCount` columns of the 3 × width moment against all of them, over 3,
  /// axis-major (DeePMD-kit's `_cal_grrg`).
  func invariant(_ moment: [Double], width: Int) -> [Double] {
    var out = [Double](repeating: 0, count: model.axisCount * width)
    for p in 0..<model.axisCount {
      for c in 0..<width {
        var sum = 0.0
        for d in 0..<3 { sum += moment[d * width + p] * moment[d * width + c] }
        out[p * width + c] = sum / 3
      }
    }
    return out
  }

  /// u with its updates, by the model's update style (`list_update`).
  private func combine(_ u: [Double], _ updates: [[Double]], _ residuals: [[Double]]) -> [Double] {
    var out = u
    switch model.updateStyle {
    case .residual:
      for (update, r) in zip(updates, residuals) { for c in out.indices { out[c] += r[c] * update[c] } }
    case .average:
      for update in updates { for c in out.indices { out[c] += update[c] } }
      let scale = 1 / Double(updates.count + 1).squareRoot()
      for c in out.indices { out[c] *= scale }
    case .increment:
      let scale = 1 / Double(updates.count).squareRoot()
      for update in updates { for c in out.indices { out[c] += scale * update[c] } }
    }
    return out
  }
}
