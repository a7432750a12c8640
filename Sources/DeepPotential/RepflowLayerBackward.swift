/// ∂E/∂(geometric inputs) of every owned atom's edges and angle neighbours, summed over layers:
/// the normalised environment row (4 per edge), the edge switch, r (edge_init_use_dist), the
/// angle switch and the unit vectors (3 per angle neighbour).
struct RepflowGeometryGradient {
  var environment: [Double], edgeSwitch: [Double], distance: [Double]
  var angleSwitch: [Double], direction: [Double]

  init() { (environment, edgeSwitch, distance, angleSwitch, direction) = ([], [], [], [], []) }

  /// Zero for `g`'s edges and angle neighbours (the arrays grow only).
  mutating func reset(graph g: RepflowGraph) {
    fit(&environment, g.environment.count)
    fit(&edgeSwitch, g.edgeSwitch.count)
    fit(&distance, g.distance.count)
    fit(&angleSwitch, g.angleSwitch.count)
    fit(&direction, g.direction.count)
  }
}

extension RepflowLayerStep {
  /// Clears the per-row gradients gathered through node_j's blocks (before a layer's backward pass).
  func clearNeighborGradients(rows: Int, scratch s: RepflowScratch) {
    s.neighborNodeEdgeGradient.update(repeating: 0, count: rows * layer.nodeEdge.outputWidth)
    s.neighborEdgeSelfGradient.update(repeating: 0, count: rows * layer.edgeSelf.outputWidth)
  }

  /// Adds the gathered per-row gradients through node_j's blocks into ∂E/∂ of the input nodes
  /// (after every atom's `backward` of the layer).
  func neighborGradients(rows: Int, scratch s: RepflowScratch, into gNodes: UnsafeMutablePointer<Double>) {
    let nd = model.nodeWidth
    func add(_ map: DenseLayer, _ g: UnsafePointer<Double>) {
      let n = map.outputWidth
      map.weights.withUnsafeBufferPointer {
        gemm(g, n, $0.baseAddress! + nd * n, n, gNodes, nd, m: rows, n: nd, k: n, transposeB: true, beta: 1)
      }
    }
    add(layer.nodeEdge, s.neighborNodeEdgeGradient)
    add(layer.edgeSelf, s.neighborEdgeSelfGradient)
  }

  /// The vector–Jacobian product of `update(atom:…)`: given ∂E/∂ of atom i's updated node
  /// (`nodeGradient`), edges and angles (`edgeGradient`, `angleGradient`: all atoms' rows, atom
  /// i's replaced by ∂E/∂ of the layer's input edges and angles), adds ∂E/∂ of the input node
  /// features into `nodeInputGradient` (atom i's row and, through node_j's blocks gathered per row
  /// in the scratch, its neighbours': `neighborGradients` adds those) and ∂E/∂ of the geometry into
  /// `geometry`. The forward values are recomputed from the layer's inputs.
  func backward(atom i: Int, graph g: RepflowGraph, nodes: UnsafePointer<Double>, edges allEdges: UnsafePointer<Double>,
                angles allAngles: UnsafePointer<Double>, nodeGradient gOut: UnsafePointer<Double>,
                edgeGradient allEdgeGradient: UnsafeMutablePointer<Double>,
                angleGradient allAngleGradient: UnsafeMutablePointer<Double>,
                nodeInputGradient gNodes: UnsafeMutablePointer<Double>, geometry: inout RepflowGeometryGradient,
                scratch s: RepflowScratch) {
    let m = model, nd = m.nodeWidth, ne = m.edgeWidth, na = m.angleWidth, act = m.activation
    let e0 = g.edgeStart[i], count = g.edgeStart[i + 1] - e0
    let a = g.angleCount[i], s0 = g.angleNeighborStart[i]
    let node = nodes + i * nd, edges = allEdges + e0 * ne, angles = allAngles + g.angleStart[i] * na
    let edgeGradient = allEdgeGradient + e0 * ne, angleGradient = allAngleGradient + g.angleStart[i] * na
    let gNode = s.vectors[0], gSelf = s.vectors[1], gSym = s.vectors[2], gMessage = s.vectors[3]
    let edgeMoment = s.vectors[4], nodeMoment = s.vectors[5], symInput = s.vectors[6]
    let gEdgeMoment = s.vectors[7], gNodeMoment = s.vectors[8], work = s.vectors[9], work2 = s.vectors[10]
    let gEdges = s.edgeGradient

    // Node updates.
    combineBackward(gOut, width: nd, into: gNode, gSelf, gSym, gMessage, layer.nodeResiduals)
    activatedBackward(layer.nodeSelf, node, gSelf, into: gNode, work: work, sink: s.vectors[11])
    // Symmetrised moments.
    moments(atom: i, graph: g, nodes: nodes, edges: edges, edgeMoment: edgeMoment, nodeMoment: nodeMoment)
    invariant(edgeMoment, width: ne, into: symInput)
    invariant(nodeMoment, width: nd, into: symInput + m.axisCount * ne)
    work2.update(repeating: 0, count: layer.nodeSymmetric.inputWidth)
    activatedBackward(layer.nodeSymmetric, symInput, gSym, into: work2, work: work, sink: s.vectors[11])
    invariantBackward(edgeMoment, width: ne, work2, into: gEdgeMoment)
    invariantBackward(nodeMoment, width: nd, work2 + m.axisCount * ne, into: gNodeMoment)
    gEdges.update(repeating: 0, count: count * ne)
    let scale = 1 / m.edgeNormalization.squareRoot()
    for e in 0..<count {
      let w = g.edgeSwitch[e0 + e], ge = edges + e * ne, gge = gEdges + e * ne, j = g.neighbor[e0 + e]
      let gn = nodes + j * nd, ggn = gNodes + j * nd
      for d in 0..<3 {
        let h = g.environment[4 * (e0 + e) + 1 + d], f = h * w * scale
        let gem = gEdgeMoment + d * ne, gnm = gNodeMoment + d * nd
        var gh = 0.0  // ∂E/∂(h_d · w · scale)
        for c in 0..<ne { gh += gem[c] * ge[c]; gge[c] += gem[c] * f }
        for c in 0..<nd { gh += gnm[c] * gn[c]; ggn[c] += gnm[c] * f }
        geometry.environment[4 * (e0 + e) + 1 + d] += gh * w * scale
        geometry.edgeSwitch[e0 + e] += gh * h * scale
      }
    }
    // The edge updates' upstream gradients.
    for e in 0..<count {
      combineBackward(edgeGradient + e * ne, width: ne, into: s.edgeOwnGradient + e * ne, s.edgeSelfGradient + e * ne,
                      s.edgeAngleGradient + e * ne, nil, layer.edgeResiduals)
    }
    // Edge messages to the node and the edges' self updates: ∂E/∂z of both maps, then their blocks.
    edgeMaps(atom: i, graph: g, node: node, edges: edges, count: count, scratch: s)
    act.apply(s.nodeEdge, values: s.nodeEdge, slopes: s.nodeEdgeSlope, count: count * nd)
    act.apply(s.edgeSelf, values: s.edgeSelf, slopes: s.edgeSelfSlope, count: count * ne)
    let messageScale = 1 / m.edgeNormalization
    let gNodeEdgeSum = work, gEdgeSelfSum = work2
    gNodeEdgeSum.update(repeating: 0, count: nd)
    gEdgeSelfSum.update(repeating: 0, count: ne)
    for e in 0..<count {
      let w = g.edgeSwitch[e0 + e], j = g.neighbor[e0 + e]
      let y = s.nodeEdge + e * nd, gz = s.nodeEdgeSlope + e * nd  // slopes become ∂E/∂z in place
      var gw = 0.0
      for c in 0..<nd {
        gw += gMessage[c] * y[c]
        gz[c] *= gMessage[c] * w * messageScale
        gNodeEdgeSum[c] += gz[c]
      }
      geometry.edgeSwitch[e0 + e] += gw * messageScale
      let gz2 = s.edgeSelfSlope + e * ne, up = s.edgeSelfGradient + e * ne
      for c in 0..<ne {
        gz2[c] *= up[c]
        gEdgeSelfSum[c] += gz2[c]
      }
      let g1 = s.neighborNodeEdgeGradient + j * nd, g2 = s.neighborEdgeSelfGradient + j * ne
      for c in 0..<nd { g1[c] += gz[c] }
      for c in 0..<ne { g2[c] += gz2[c] }
    }
    func blocks(_ map: DenseLayer, _ gz: UnsafePointer<Double>, _ sum: UnsafePointer<Double>) {
      let n = map.outputWidth
      map.weights.withUnsafeBufferPointer { w in
        let w = w.baseAddress!
        gemm(sum, n, w, n, gNode, nd, m: 1, n: nd, k: n, transposeB: true, beta: 1)
        gemm(gz, n, w + 2 * nd * n, n, gEdges, ne, m: count, n: ne, k: n, transposeB: true, beta: 1)
      }
    }
    blocks(layer.nodeEdge, s.nodeEdgeSlope, gNodeEdgeSum)
    blocks(layer.edgeSelf, s.edgeSelfSlope, gEdgeSelfSum)
    for c in 0..<count * ne { gEdges[c] += s.edgeOwnGradient[c] }

    // Angle messages of the edges: recompute the pairs' values and slopes and the messages.
    if a > 0 {
      s.toEdge.prepare(layer.edgeAngle1, compression: layer.angleCompression, node: node, edges: edges, count: a)
      s.toAngle.prepare(layer.angleSelf, compression: layer.angleCompression, node: node, edges: edges, count: a)
      s.toEdge.z(angles, into: s.pairEdge)
      s.toAngle.z(angles, into: s.pairAngle)
      act.apply(s.pairEdge, values: s.pairEdge, slopes: s.pairEdgeSlope, count: a * a * ne)
      act.apply(s.pairAngle, values: s.pairAngle, slopes: s.pairAngleSlope, count: a * a * na)
    }
    let angleScale = 1 / m.angleNormalization.squareRoot()
    for e in 0..<count {
      let out = s.angleMessage + e * ne
      if e < a {
        out.update(repeating: 0, count: ne)
        for k in 0..<a {
          let w = g.angleSwitch[s0 + e] * g.angleSwitch[s0 + k] * angleScale, row = s.pairEdge + (e * a + k) * ne
          for c in 0..<ne { out[c] += w * row[c] }
        }
      } else if m.smoothEdgeUpdate {
        out.update(repeating: 0, count: ne)
      } else {
        out.update(from: edges + e * ne, count: ne)
      }
    }
    affine(layer.edgeAngle2, s.angleMessage, rows: count, into: s.edgeAngle)
    act.apply(s.edgeAngle, values: s.edgeAngle, slopes: s.edgeAngleSlope, count: count * ne)
    for c in 0..<count * ne { s.edgeAngleSlope[c] *= s.edgeAngleGradient[c] }
    // ∂E/∂message = ∂E/∂z·W_2ᵀ: of the angle neighbours into the reduced messages, of the others
    // (without smooth_edge_update: their own feature) into the edges.
    let gAngleMessage = s.angleMessage
    layer.edgeAngle2.weights.withUnsafeBufferPointer {
      gemm(s.edgeAngleSlope, ne, $0.baseAddress!, ne, gAngleMessage, ne, m: count, n: ne, k: ne, transposeB: true)
    }
    for c in 0..<a * ne { s.reducedGradient[c] = gAngleMessage[c] * angleScale }
    if !m.smoothEdgeUpdate { for c in a * ne..<count * ne { gEdges[c] += gAngleMessage[c] } }

    // Angles: both maps read [angle_jk, node_i, edge_ik, edge_ij].
    if a > 0 {
      let (own, update) = angleCoefficients
      for j in 0..<a {
        let gr = s.reducedGradient + j * ne
        for k in 0..<a {
          let p = j * a + k, w = g.angleSwitch[s0 + j] * g.angleSwitch[s0 + k]
          let y = s.pairEdge + p * ne, gz1 = s.pairEdgeSlope + p * ne
          var dot = 0.0
          for c in 0..<ne {
            dot += gr[c] * y[c]
            gz1[c] *= gr[c] * w
          }
          geometry.angleSwitch[s0 + j] += dot * g.angleSwitch[s0 + k]
          geometry.angleSwitch[s0 + k] += dot * g.angleSwitch[s0 + j]
          let gz2 = s.pairAngleSlope + p * na, upstream = angleGradient + p * na
          for c in 0..<na {
            gz2[c] *= update[c] * upstream[c]
            upstream[c] *= own
          }
        }
      }
      s.toEdge.accumulate(s.pairEdgeSlope, angleGradient: angleGradient)
      s.toAngle.accumulate(s.pairAngleSlope, angleGradient: angleGradient)
      s.toEdge.distribute(nodeGradient: gNode, edgeGradient: gEdges)
      s.toAngle.distribute(nodeGradient: gNode, edgeGradient: gEdges)
    }
    edgeGradient.update(from: gEdges, count: count * ne)
    let gi = gNodes + i * nd
    for c in 0..<nd { gi[c] += gNode[c] }
  }

  /// ∂E/∂u into `own` and ∂E/∂u_k into `g1`, `g2` (`g3`) of `combine(u, [u_1 … u_n])`, given ∂E/∂out.
  private func combineBackward(_ g: UnsafePointer<Double>, width: Int, into own: UnsafeMutablePointer<Double>,
                               _ g1: UnsafeMutablePointer<Double>, _ g2: UnsafeMutablePointer<Double>,
                               _ g3: UnsafeMutablePointer<Double>?, _ residuals: [[Double]]) {
    let n = g3 == nil ? 2 : 3
    switch model.updateStyle {
    case .residual:
      let r1 = residuals[0], r2 = residuals[1]
      for c in 0..<width { own[c] = g[c]; g1[c] = r1[c] * g[c]; g2[c] = r2[c] * g[c] }
      if let g3 { let r3 = residuals[2]; for c in 0..<width { g3[c] = r3[c] * g[c] } }
    case .average:
      let s = 1 / Double(n + 1).squareRoot()
      for c in 0..<width { let v = g[c] * s; own[c] = v; g1[c] = v; g2[c] = v; g3?[c] = v }
    case .increment:
      let s = 1 / Double(n).squareRoot()
      for c in 0..<width { let v = g[c] * s; own[c] = g[c]; g1[c] = v; g2[c] = v; g3?[c] = v }
    }
  }

  /// Adds ∂E/∂x of y = φ(x·W + b) into `gx`, given ∂E/∂y (`work`, `sink`: out-width scratch).
  private func activatedBackward(_ l: DenseLayer, _ x: UnsafePointer<Double>, _ gy: UnsafePointer<Double>,
                                 into gx: UnsafeMutablePointer<Double>, work: UnsafeMutablePointer<Double>,
                                 sink: UnsafeMutablePointer<Double>) {
    affine(l, x, into: work)
    model.activation.apply(work, values: sink, slopes: work, count: l.outputWidth)
    for o in 0..<l.outputWidth { work[o] *= gy[o] }
    let n = l.outputWidth
    l.weights.withUnsafeBufferPointer {
      gemm(work, n, $0.baseAddress!, n, gx, l.inputWidth, m: 1, n: l.inputWidth, k: n, transposeB: true, beta: 1)
    }
  }

  /// ∂E/∂moment (3 × width) of `invariant(moment, width:)`, given ∂E/∂grrg (axis × width).
  private func invariantBackward(_ moment: UnsafePointer<Double>, width: Int, _ gOut: UnsafePointer<Double>,
                                 into gm: UnsafeMutablePointer<Double>) {
    gm.update(repeating: 0, count: 3 * width)
    for p in 0..<model.axisCount {
      for c in 0..<width {
        let go = gOut[p * width + c] / 3
        for d in 0..<3 {
          gm[d * width + c] += go * moment[d * width + p]
          gm[d * width + p] += go * moment[d * width + c]
        }
      }
    }
  }
}
