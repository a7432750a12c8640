/// ∂E/∂(geometric inputs) of every owned atom's edges and angle neighbours, summed over layers:
/// the normalised environment row (4 per edge), the edge switch, r (edge_init_use_dist), the
/// angle switch and the unit vectors (3 per angle neighbour).
struct RepflowGeometryGradient {
  var environment: [Double], edgeSwitch: [Double], distance: [Double]
  var angleSwitch: [Double], direction: [Double]

  init(graph g: RepflowGraph) {
    environment = [Double](repeating: 0, count: g.environment.count)
    edgeSwitch = [Double](repeating: 0, count: g.edgeSwitch.count)
    distance = [Double](repeating: 0, count: g.distance.count)
    angleSwitch = [Double](repeating: 0, count: g.angleSwitch.count)
    direction = [Double](repeating: 0, count: g.direction.count)
  }
}

extension RepflowLayerStep {
  /// The vector–Jacobian product of `update(atom:…)`: given ∂E/∂ of atom i's updated node
  /// (`nodeGradient`), edges and angles (`edgeGradient`, `angleGradient`, replaced by ∂E/∂ of the
  /// layer's input edges and angles), adds ∂E/∂ of the input node features into
  /// `nodeInputGradient` (atom i's row and its neighbours' rows, ghosts included: the caller
  /// reverse-sums them to their owners) and ∂E/∂ of the geometry into `geometry`. The forward
  /// values are recomputed from the layer's inputs.
  func backward(atom i: Int, graph g: RepflowGraph, nodes: [Double], edges: [Double], angles: [Double],
                nodeGradient gOut: ArraySlice<Double>, edgeGradient: inout [Double], angleGradient: inout [Double],
                nodeInputGradient gNodes: inout [Double], geometry: inout RepflowGeometryGradient) {
    let m = model, nd = m.nodeWidth, ne = m.edgeWidth, na = m.angleWidth
    let e0 = g.edgeStart[i], count = g.edgeStart[i + 1] - e0
    let a = g.angleCount[i], p0 = g.angleStart[i], s0 = g.angleNeighborStart[i]
    let node = Array(nodes[i * nd..<(i + 1) * nd])
    func edge(_ e: Int) -> [Double] { Array(edges[(e0 + e) * ne..<(e0 + e + 1) * ne]) }
    func neighborNode(_ e: Int) -> [Double] { let j = g.neighbor[e0 + e]; return Array(nodes[j * nd..<(j + 1) * nd]) }
    let gUpdated = Array(gOut)
    var gNode = [Double](repeating: 0, count: nd)
    var gEdges = [Double](repeating: 0, count: count * ne)
    func addNeighbor(_ e: Int, _ v: ArraySlice<Double>) {
      let j = g.neighbor[e0 + e]
      for c in 0..<nd { gNodes[j * nd + c] += v[v.startIndex + c] }
    }
    func addEdge(_ e: Int, _ v: ArraySlice<Double>) { for c in 0..<ne { gEdges[e * ne + c] += v[v.startIndex + c] } }

    // Node updates.
    let (gNodeOwn, gNodeUpdates) = combineBackward(gUpdated, updates: 3, m.updateStyle == .residual ? layer.nodeResiduals : [])
    for c in 0..<nd { gNode[c] += gNodeOwn[c] }
    gNode = add(gNode, activatedBackward(layer.nodeSelf, node, gNodeUpdates[0]))
    // Symmetrised moments.
    let scale = 1 / m.edgeNormalization.squareRoot()
    var edgeMoment = [Double](repeating: 0, count: 3 * ne), nodeMoment = [Double](repeating: 0, count: 3 * nd)
    // Edge and neighbour rows read in place (these loops run over every edge of every layer).
    for e in 0..<count {
      let w = g.edgeSwitch[e0 + e], ge = (e0 + e) * ne, gn = g.neighbor[e0 + e] * nd
      for d in 0..<3 {
        let h = g.environment[4 * (e0 + e) + 1 + d] * w * scale
        for c in 0..<ne { edgeMoment[d * ne + c] += h * edges[ge + c] }
        for c in 0..<nd { nodeMoment[d * nd + c] += h * nodes[gn + c] }
      }
    }
    let symInput = invariant(edgeMoment, width: ne) + invariant(nodeMoment, width: nd)
    let gSym = activatedBackward(layer.nodeSymmetric, symInput, gNodeUpdates[1])
    let gEdgeMoment = invariantBackward(edgeMoment, width: ne, gSym[0..<m.axisCount * ne])
    let gNodeMoment = invariantBackward(nodeMoment, width: nd, gSym[(m.axisCount * ne)...])
    for e in 0..<count {
      let w = g.edgeSwitch[e0 + e], ge = (e0 + e) * ne, j = g.neighbor[e0 + e], gn = j * nd
      for d in 0..<3 {
        let h = g.environment[4 * (e0 + e) + 1 + d]
        var gh = 0.0  // ∂E/∂(h_d · w · scale)
        for c in 0..<ne { gh += gEdgeMoment[d * ne + c] * edges[ge + c]; gEdges[e * ne + c] += gEdgeMoment[d * ne + c] * h * w * scale }
        for c in 0..<nd { gh += gNodeMoment[d * nd + c] * nodes[gn + c]; gNodes[gn + c] += gNodeMoment[d * nd + c] * h * w * scale }
        geometry.environment[4 * (e0 + e) + 1 + d] += gh * w * scale
        geometry.edgeSwitch[e0 + e] += gh * h * scale
      }
    }
    // Edge messages to the node, and the edges' self updates.
    let (gEdgeOwnAll, gEdgeUpdatesAll) = (0..<count).reduce(into: ([[Double]](), [[[Double]]]())) { acc, e in
      let r = combineBackward(Array(edgeGradient[(e0 + e) * ne..<(e0 + e + 1) * ne]), updates: 2,
                              m.updateStyle == .residual ? layer.edgeResiduals : [])
      acc.0.append(r.0)
      acc.1.append(r.1)
    }
    let messageScale = 1 / m.edgeNormalization
    for e in 0..<count {
      let input = node + neighborNode(e) + edge(e)
      let w = g.edgeSwitch[e0 + e]
      let z = affine(layer.nodeEdge, input)
      var gz = [Double](repeating: 0, count: nd)
      for c in 0..<nd {
        let (y, slope) = m.activation.valueAndDerivative(z[c])
        geometry.edgeSwitch[e0 + e] += gNodeUpdates[2][c] * y * messageScale
        gz[c] = gNodeUpdates[2][c] * w * messageScale * slope
      }
      var gInput = affineBackward(layer.nodeEdge, gz)
      gInput = add(gInput, activatedBackward(layer.edgeSelf, input, gEdgeUpdatesAll[e][0]))
      for c in 0..<nd { gNode[c] += gInput[c] }
      addNeighbor(e, gInput[nd..<2 * nd])
      addEdge(e, gInput[2 * nd..<2 * nd + ne])
      addEdge(e, gEdgeOwnAll[e][...])
    }
    // Angle messages of the edges.
    var toEdge = AngleProjection(layer.edgeAngle1, model: m, compression: layer.angleCompression, node: node, edges: edges,
                                 firstEdge: e0, count: a)
    var toAngle = AngleProjection(layer.angleSelf, model: m, compression: layer.angleCompression, node: node, edges: edges,
                                  firstEdge: e0, count: a)
    let angleScale = 1 / m.angleNormalization.squareRoot()
    var gReduced = [Double](repeating: 0, count: a * ne)
    var z1 = [Double](repeating: 0, count: ne), z2 = [Double](repeating: 0, count: na)
    var pairValues = [Double](repeating: 0, count: a * a * ne), pairSlopes = pairValues
    for e in 0..<count {
      var message = e < a || m.smoothEdgeUpdate ? [Double](repeating: 0, count: ne) : edge(e)
      if e < a {
        // Recompute the reduced angle message of edge e, keeping φ and φ' of every pair for the
        // angle loop below.
        for k in 0..<a {
          toEdge.z(angles, angleRow: (p0 + e * a + k) * na, j: e, k: k, into: &z1)
          let w = g.angleSwitch[s0 + e] * g.angleSwitch[s0 + k], pair = (e * a + k) * ne
          for c in 0..<ne {
            let (y, slope) = m.activation.valueAndDerivative(z1[c])
            pairValues[pair + c] = y
            pairSlopes[pair + c] = slope
            message[c] += w * y * angleScale
          }
        }
      }
      let gMessage = activatedBackward(layer.edgeAngle2, message, gEdgeUpdatesAll[e][1])
      if e < a {
        for c in 0..<ne { gReduced[e * ne + c] = gMessage[c] * angleScale }
      } else if !m.smoothEdgeUpdate {
        addEdge(e, gMessage[...])
      }
    }
    // Angles: both maps read [angle_jk, node_i, edge_ik, edge_ij].
    let (own, update) = angleCoefficients
    var gz1 = [Double](repeating: 0, count: ne), gz2 = [Double](repeating: 0, count: na)
    for j in 0..<a {
      for k in 0..<a {
        let row = (p0 + j * a + k) * na
        let w = g.angleSwitch[s0 + j] * g.angleSwitch[s0 + k]
        var dot = 0.0
        for c in 0..<ne {
          let pair = (j * a + k) * ne + c
          dot += gReduced[j * ne + c] * pairValues[pair]
          gz1[c] = gReduced[j * ne + c] * w * pairSlopes[pair]
        }
        geometry.angleSwitch[s0 + j] += dot * g.angleSwitch[s0 + k]
        geometry.angleSwitch[s0 + k] += dot * g.angleSwitch[s0 + j]
        toAngle.z(angles, angleRow: row, j: j, k: k, into: &z2)
        for c in 0..<na {
          let upstream = angleGradient[row + c]
          gz2[c] = update[c] * upstream * m.activation.valueAndDerivative(z2[c]).derivative
          angleGradient[row + c] = own * upstream
        }
        toEdge.accumulate(gz1, j: j, k: k, angleGradient: &angleGradient, row: row)
        toAngle.accumulate(gz2, j: j, k: k, angleGradient: &angleGradient, row: row)
      }
    }
    toEdge.distribute(nodeGradient: &gNode, edgeGradient: &gEdges, edgeWidth: ne)
    toAngle.distribute(nodeGradient: &gNode, edgeGradient: &gEdges, edgeWidth: ne)
    edgeGradient.replaceSubrange(e0 * ne..<(e0 + count) * ne, with: gEdges)
    for c in 0..<nd { gNodes[i * nd + c] += gNode[c] }
  }

  /// ∂E/∂u and ∂E/∂u_k of `combine(u, [u_1 … u_n])`.
  private func combineBackward(_ g: [Double], updates n: Int, _ residuals: [[Double]]) -> ([Double], [[Double]]) {
    switch model.updateStyle {
    case .residual: return (g, residuals.map { r in zip(r, g).map { $0 * $1 } })
    case .average:
      let s = 1 / Double(n + 1).squareRoot()
      let scaled = g.map { $0 * s }
      return (scaled, Array(repeating: scaled, count: n))
    case .increment:
      let s = 1 / Double(n).squareRoot()
      return (g, Array(repeating: g.map { $0 * s }, count: n))
    }
  }

  /// ∂E/∂x of y = φ(x·W + b), given ∂E/∂y.
  private func activatedBackward(_ l: DenseLayer, _ x: [Double], _ gy: [Double]) -> [Double] {
    let z = affine(l, x)
    var gz = [Double](repeating: 0, count: l.outputWidth)
    for o in 0..<l.outputWidth { gz[o] = gy[o] * model.activation.valueAndDerivative(z[o]).derivative }
    return affineBackward(l, gz)
  }

  private func affineBackward(_ l: DenseLayer, _ gz: [Double]) -> [Double] {
    var gx = [Double](repeating: 0, count: l.inputWidth)
    let n = l.outputWidth
    gx.withUnsafeMutableBufferPointer { out in
      l.weights.withUnsafeBufferPointer { w in
        gz.withUnsafeBufferPointer { g in
          for r in 0..<l.inputWidth {
            let row = w.baseAddress! + r * n
            var sum = 0.0
            for o in 0..<n { sum += row[o] * g[o] }
            out[r] = sum
          }
        }
      }
    }
    return gx
  }

  /// ∂E/∂moment of `invariant(moment, width:)`, given ∂E/∂grrg (axis × width).
  private func invariantBackward(_ moment: [Double], width: Int, _ gOut: ArraySlice<Double>) -> [Double] {
    var gm = [Double](repeating: 0, count: 3 * width)
    let base = gOut.startIndex
    for p in 0..<model.axisCount {
      for c in 0..<width {
        let go = gOut[base + p * width + c] / 3
        for d in 0..<3 {
          gm[d * width + c] += go * moment[d * width + p]
          gm[d * width + p] += go * moment[d * width + c]
        }
      }
    }
    return gm
  }

  private func add(_ a: [Double], _ b: [Double]) -> [Double] { zip(a, b).map { $0 + $1 } }
}
