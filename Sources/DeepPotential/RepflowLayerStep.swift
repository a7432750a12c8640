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
///
/// The maps over [node_i, node_j, edge_ij] are applied by blocks of their rows (DeePMD-kit's
/// `optim_update`, the same function): node_j's block once per row for the whole layer
/// (`neighborShares`), node_i's once per atom, the edge block over the atom's edges in one product.
struct RepflowLayerStep {
  let model: RepflowModel
  let layer: RepflowModel.RepflowLayer
  /// The angle update is combine(angle, [u]) = α·angle + β ⊙ u: (α, β) by the update style.
  let angleCoefficients: (Double, [Double])

  init(model: RepflowModel, layer: RepflowModel.RepflowLayer) {
    self.model = model
    self.layer = layer
    switch model.updateStyle {
    case .residual: angleCoefficients = (1, layer.angleResiduals[0])
    case .average: angleCoefficients = (1 / 2.0.squareRoot(), Array(repeating: 1 / 2.0.squareRoot(), count: model.angleWidth))
    case .increment: angleCoefficients = (1, Array(repeating: 1, count: model.angleWidth))
    }
  }

  /// node_j's block of the node–edge and edge-self maps for every row (owned atoms and ghosts).
  func neighborShares(nodes: UnsafePointer<Double>, rows: Int, scratch s: RepflowScratch) {
    let nd = model.nodeWidth
    func share(_ map: DenseLayer, _ out: UnsafeMutablePointer<Double>) {
      let n = map.outputWidth
      map.weights.withUnsafeBufferPointer { gemm(nodes, nd, $0.baseAddress! + nd * n, n, out, n, m: rows, n: n, k: nd) }
    }
    share(layer.nodeEdge, s.neighborNodeEdge)
    share(layer.edgeSelf, s.neighborEdgeSelf)
  }

  /// The node–edge and edge-self maps' pre-activations of atom i's edges into `s.nodeEdge` and
  /// `s.edgeSelf` (count rows each).
  func edgeMaps(atom i: Int, graph g: RepflowGraph, node: UnsafePointer<Double>, edges: UnsafePointer<Double>,
                count: Int, scratch s: RepflowScratch) {
    let nd = model.nodeWidth, ne = model.edgeWidth, e0 = g.edgeStart[i]
    func apply(_ map: DenseLayer, _ out: UnsafeMutablePointer<Double>, _ shares: UnsafePointer<Double>,
               _ own: UnsafeMutablePointer<Double>) {
      let n = map.outputWidth
      map.weights.withUnsafeBufferPointer { w in
        let w = w.baseAddress!
        if let bias = map.bias { for o in 0..<n { own[o] = bias[o] } } else { own.update(repeating: 0, count: n) }
        gemm(node, nd, w, n, own, n, m: 1, n: n, k: nd, beta: 1)
        gemm(edges, ne, w + 2 * nd * n, n, out, n, m: count, n: n, k: ne)
      }
      for e in 0..<count {
        let row = out + e * n, share = shares + g.neighbor[e0 + e] * n
        for o in 0..<n { row[o] += own[o] + share[o] }
      }
    }
    apply(layer.nodeEdge, s.nodeEdge, s.neighborNodeEdge, s.vectors[6])
    apply(layer.edgeSelf, s.edgeSelf, s.neighborEdgeSelf, s.vectors[7])
  }

  /// The symmetrised moments of atom i's edges and neighbour nodes, scaled by 1/√e_sel: 3 × e_dim
  /// into `edgeMoment`, 3 × n_dim into `nodeMoment`.
  func moments(atom i: Int, graph g: RepflowGraph, nodes: UnsafePointer<Double>, edges: UnsafePointer<Double>,
               edgeMoment: UnsafeMutablePointer<Double>, nodeMoment: UnsafeMutablePointer<Double>) {
    let nd = model.nodeWidth, ne = model.edgeWidth
    let e0 = g.edgeStart[i], count = g.edgeStart[i + 1] - e0
    let scale = 1 / model.edgeNormalization.squareRoot()
    edgeMoment.update(repeating: 0, count: 3 * ne)
    nodeMoment.update(repeating: 0, count: 3 * nd)
    for e in 0..<count {
      let w = g.edgeSwitch[e0 + e], ge = edges + e * ne, gn = nodes + g.neighbor[e0 + e] * nd
      for d in 0..<3 {
        let h = g.environment[4 * (e0 + e) + 1 + d] * w * scale
        let em = edgeMoment + d * ne, nm = nodeMoment + d * nd
        for c in 0..<ne { em[c] += h * ge[c] }
        for c in 0..<nd { nm[c] += h * gn[c] }
      }
    }
  }

  func update(atom i: Int, graph g: RepflowGraph, nodes: UnsafePointer<Double>, next: UnsafeMutablePointer<Double>,
              edges allEdges: UnsafeMutablePointer<Double>, angles allAngles: UnsafeMutablePointer<Double>,
              scratch s: RepflowScratch) {
    let m = model, nd = m.nodeWidth, ne = m.edgeWidth, na = m.angleWidth, act = m.activation
    let e0 = g.edgeStart[i], count = g.edgeStart[i + 1] - e0
    let a = g.angleCount[i], s0 = g.angleNeighborStart[i]
    let node = nodes + i * nd, edges = allEdges + e0 * ne, angles = allAngles + g.angleStart[i] * na
    let selfUpdate = s.vectors[0], edgeMoment = s.vectors[1], nodeMoment = s.vectors[2], symInput = s.vectors[3]
    let symmetric = s.vectors[4], message = s.vectors[5]

    // Node: self map, symmetrised edges and neighbour nodes, switched edge messages.
    affine(layer.nodeSelf, node, into: selfUpdate)
    act.apply(selfUpdate, count: nd)
    moments(atom: i, graph: g, nodes: nodes, edges: edges, edgeMoment: edgeMoment, nodeMoment: nodeMoment)
    invariant(edgeMoment, width: ne, into: symInput)
    invariant(nodeMoment, width: nd, into: symInput + m.axisCount * ne)
    affine(layer.nodeSymmetric, symInput, into: symmetric)
    act.apply(symmetric, count: nd)
    edgeMaps(atom: i, graph: g, node: node, edges: edges, count: count, scratch: s)
    act.apply(s.nodeEdge, count: count * nd)
    act.apply(s.edgeSelf, count: count * ne)
    message.update(repeating: 0, count: nd)
    for e in 0..<count {
      let w = g.edgeSwitch[e0 + e] / m.edgeNormalization, row = s.nodeEdge + e * nd
      for c in 0..<nd { message[c] += w * row[c] }
    }
    combine(next + i * nd, own: node, width: nd, selfUpdate, symmetric, message, layer.nodeResiduals)

    // Angles, and the angle messages of the edges they join (both maps read the input angles).
    if a > 0 {
      s.toEdge.prepare(layer.edgeAngle1, compression: layer.angleCompression, node: node, edges: edges, count: a)
      s.toAngle.prepare(layer.angleSelf, compression: layer.angleCompression, node: node, edges: edges, count: a)
      s.toEdge.z(angles, into: s.pairEdge)
      s.toAngle.z(angles, into: s.pairAngle)
      act.apply(s.pairEdge, count: a * a * ne)
      act.apply(s.pairAngle, count: a * a * na)
      s.reduced.update(repeating: 0, count: a * ne)
      let angleScale = 1 / m.angleNormalization.squareRoot()
      for j in 0..<a {
        let out = s.reduced + j * ne
        for k in 0..<a {
          let w = g.angleSwitch[s0 + j] * g.angleSwitch[s0 + k] * angleScale, row = s.pairEdge + (j * a + k) * ne
          for c in 0..<ne { out[c] += w * row[c] }
        }
      }
      let (own, update) = angleCoefficients
      for p in 0..<a * a {
        let row = angles + p * na, u = s.pairAngle + p * na
        for c in 0..<na { row[c] = own * row[c] + update[c] * u[c] }
      }
    }
    // Edges: the angle message through its map.
    for e in 0..<count {
      let out = s.angleMessage + e * ne
      if e < a {
        for c in 0..<ne { out[c] = s.reduced[e * ne + c] }
      } else if m.smoothEdgeUpdate {
        out.update(repeating: 0, count: ne)
      } else {
        out.update(from: edges + e * ne, count: ne)
      }
    }
    affine(layer.edgeAngle2, s.angleMessage, rows: count, into: s.edgeAngle)
    act.apply(s.edgeAngle, count: count * ne)
    for e in 0..<count {
      let row = edges + e * ne
      combine(row, own: row, width: ne, s.edgeSelf + e * ne, s.edgeAngle + e * ne, nil, layer.edgeResiduals)
    }
  }

  /// x·W + b for `rows` rows of x.
  func affine(_ l: DenseLayer, _ x: UnsafePointer<Double>, rows: Int = 1, into y: UnsafeMutablePointer<Double>) {
    let n = l.outputWidth
    if let bias = l.bias {
      for r in 0..<rows { for o in 0..<n { y[r * n + o] = bias[o] } }
    } else {
      y.update(repeating: 0, count: rows * n)
    }
    l.weights.withUnsafeBufferPointer { gemm(x, l.inputWidth, $0.baseAddress!, n, y, n, m: rows, n: n, k: l.inputWidth, beta: 1) }
  }

  /// grrg: the first `axisCount` columns of the 3 × width moment against all of them, over 3,
  /// axis-major (DeePMD-kit's `_cal_grrg`).
  func invariant(_ moment: UnsafePointer<Double>, width: Int, into out: UnsafeMutablePointer<Double>) {
    for p in 0..<model.axisCount {
      for c in 0..<width {
        var sum = 0.0
        for d in 0..<3 { sum += moment[d * width + p] * moment[d * width + c] }
        out[p * width + c] = sum / 3
      }
    }
  }

  /// u with its two or three updates, by the model's update style (`list_update`); `out` may be `u`.
  func combine(_ out: UnsafeMutablePointer<Double>, own u: UnsafePointer<Double>, width: Int,
               _ u1: UnsafePointer<Double>, _ u2: UnsafePointer<Double>, _ u3: UnsafePointer<Double>?,
               _ residuals: [[Double]]) {
    let n = u3 == nil ? 2 : 3
    switch model.updateStyle {
    case .residual:
      let r1 = residuals[0], r2 = residuals[1]
      for c in 0..<width { out[c] = u[c] + r1[c] * u1[c] + r2[c] * u2[c] }
      if let u3 { let r3 = residuals[2]; for c in 0..<width { out[c] += r3[c] * u3[c] } }
    case .average:
      let scale = 1 / Double(n + 1).squareRoot()
      for c in 0..<width { out[c] = (u[c] + u1[c] + u2[c] + (u3?[c] ?? 0)) * scale }
    case .increment:
      let scale = 1 / Double(n).squareRoot()
      for c in 0..<width { out[c] = u[c] + scale * u1[c] + scale * u2[c] + scale * (u3?[c] ?? 0) }
    }
  }
}
