/// ∂/∂ of the environment rows (4 per edge) and of the switch (1 per edge) of the repformer's edges.
/// With `h2`: ∂/∂ of the current layer's input h2 (edges × 3), which the layers pass down until it
/// joins the environment rows' last three.
struct RepformerGeometryGradient {
  var environment: [Double]
  var edgeSwitch: [Double]
  var h2: [Double]

  init(edges: Int) {
    environment = [Double](repeating: 0, count: 4 * edges)
    edgeSwitch = [Double](repeating: 0, count: edges)
    h2 = [Double](repeating: 0, count: 3 * edges)
  }
}

extension RepformerLayerStep {
  /// The backward pass of one centre: from ∂/∂ of its new g1 (`g1Gradient`) and of its edges' new
  /// g2 (`g2Gradient`, edges × g2_dim) to ∂/∂ of the layer's inputs, added into `g1Input` (rows ×
  /// g1_dim: the centre's and its neighbours' rows), `g2Input` (edges × g2_dim) and `geometry` (h2
  /// and the switches).
  func backward(_ c: Centre, graph: RepformerGraph, g1: [Double], g2: [Double], g1Gradient: ArraySlice<Double>,
                g2Gradient: [Double], h2Gradient: [Double], g1Input: inout [Double], g2Input: inout [Double],
                geometry: inout RepformerGeometryGradient) {
    let m = model, ng1 = m.g1Width, ng2 = m.g2Width, sel = Double(m.selection)
    let v = values(c, graph: graph, g1: g1, g2: g2)
    var dCentre = [Double](repeating: 0, count: ng1)
    var dNbr = [Double](repeating: 0, count: c.n * ng1)
    func addEdgeG2(_ j: Int, _ g: [Double]) { for x in 0..<ng2 { g2Input[(c.e0 + j) * ng2 + x] += g[x] } }

    // g1 = combine(g1, [self MLP, conv, linear1, attention]).
    let count = (layer.g1SelfMLP != nil ? 1 : 0) + (layer.convolution != nil && m.convolutionOut ? 1 : 0) + 1
      + (layer.localAttention != nil ? 1 : 0)
    let (dBase, dUpdates) = combineBackward(Array(g1Gradient), updates: count, residuals: layer.g1Residuals)
    for x in 0..<ng1 { dCentre[x] += dBase[x] }
    var next = 0
    if let mlp = layer.g1SelfMLP {
      let dz = (0..<ng1).map { dUpdates[next][$0] * m.activation.derivative(v.selfZ[$0], output: v.selfMLP[$0]) }
      let d = affineBackward(mlp, dz)
      for x in 0..<ng1 { dCentre[x] += d[x] }
      next += 1
    }
    if let conv = layer.convolution, m.convolutionOut {
      let du = dUpdates[next]
      for j in 0..<c.n {
        let e = c.e0 + j, sw = graph.edgeSwitch[e]
        var dP = [Double](repeating: 0, count: ng1)
        for x in 0..<ng1 {
          let p = v.convProjected[j * ng1 + x], nb = v.nbr[j * ng1 + x]
          dP[x] = du[x] * nb * sw / sel
          dNbr[j * ng1 + x] += du[x] * p * sw / sel
          geometry.edgeSwitch[e] += du[x] * p * nb / sel
        }
        addEdgeG2(j, affineBackward(conv, dP))
      }
      next += 1
    }
    // linear1 over [g1?, conv?, grrg?, drrd?].
    let dz = (0..<ng1).map { dUpdates[next][$0] * m.activation.derivative(v.linear1Z[$0], output: v.g1Update[$0]) }
    next += 1
    let dInput = affineBackward(layer.linear1, dz)
    var offset = 0
    if layer.g1SelfMLP == nil {
      for x in 0..<ng1 { dCentre[x] += dInput[x] }
      offset += ng1
    }
    if let conv = layer.convolution, !m.convolutionOut {
      for j in 0..<c.n {
        let e = c.e0 + j, sw = graph.edgeSwitch[e]
        var dQ = [Double](repeating: 0, count: ng2), dOwn = [Double](repeating: 0, count: ng2)
        for x in 0..<ng2 {
          let q = v.convProjected[j * ng2 + x], own = g2[e * ng2 + x], d = dInput[offset + x]
          dQ[x] = d * own * sw / sel
          dOwn[x] = d * q * sw / sel
          geometry.edgeSwitch[e] += d * q * own / sel
        }
        addEdgeG2(j, dOwn)
        let dn = affineBackward(conv, dQ)
        for x in 0..<ng1 { dNbr[j * ng1 + x] += dn[x] }
      }
      offset += ng2
    }
    if layer.hasGrrg {
      let dhg = grrgBackward(Array(dInput[offset..<offset + m.axisCount * ng2]), hg: v.hgEdge, width: ng2)
      var dFeatures = [Double](repeating: 0, count: c.n * ng2)
      hgBackward(c, graph: graph, dhg, features: Array(g2[c.e0 * ng2..<(c.e0 + c.n) * ng2]), width: ng2,
                 into: &dFeatures, geometry: &geometry)
      for j in 0..<c.n { addEdgeG2(j, Array(dFeatures[j * ng2..<(j + 1) * ng2])) }
      offset += m.axisCount * ng2
    }
    if layer.hasDrrd {
      let dhg = grrgBackward(Array(dInput[offset..<offset + m.axisCount * ng1]), hg: v.hgNode, width: ng1)
      hgBackward(c, graph: graph, dhg, features: v.nbr, width: ng1, into: &dNbr, geometry: &geometry)
    }
    if let attention = layer.localAttention {
      localAttentionBackward(attention, c, graph: graph, values: v, gradient: dUpdates[next], centre: &dCentre,
                             neighbors: &dNbr, geometry: &geometry)
    }

    // g2 = combine(g2, [linear2, g1 ⊙ g1, attention]) on every edge (all but the last layer).
    if let update = layer.g2 {
      let g2Count = 1 + (update.g1g1 != nil ? 1 : 0) + (update.attention?.apply != nil ? 1 : 0)
      var dAttention = [Double](repeating: 0, count: c.n * ng2)
      for j in 0..<c.n {
        let e = c.e0 + j, sw = graph.edgeSwitch[e]
        let own = Array(g2[e * ng2..<(e + 1) * ng2])
        let (dOwn, dList) = combineBackward(Array(g2Gradient[e * ng2..<(e + 1) * ng2]), updates: g2Count,
                                            residuals: layer.g2Residuals)
        addEdgeG2(j, dOwn)
        let z = affine(update.linear2, own)
        addEdgeG2(j, affineBackward(update.linear2, (0..<ng2).map {
          dList[0][$0] * m.activation.derivative(z[$0], output: m.activation.value(z[$0]))
        }))
        var k = 1
        if let g1g1 = update.g1g1 {
          let dx = affineBackward(g1g1, dList[k])
          for x in 0..<ng1 {
            let nb = v.nbr[j * ng1 + x]
            dCentre[x] += dx[x] * nb * sw
            dNbr[j * ng1 + x] += dx[x] * v.g1[x] * sw
            geometry.edgeSwitch[e] += dx[x] * v.g1[x] * nb
          }
          k += 1
        }
        if update.attention?.apply != nil { for x in 0..<ng2 { dAttention[j * ng2 + x] = dList[k][x] } }
      }
      // h2 = combine(h2, [attention-weighted h2]) with update_h2, else passed on.
      var dEquivariant = [Double](repeating: 0, count: 3 * c.n)
      for j in 0..<c.n {
        let e = c.e0 + j, d = Array(h2Gradient[3 * e..<3 * e + 3])
        guard update.attention?.equivariant != nil else {
          for a in 0..<3 { geometry.h2[3 * e + a] += d[a] }
          continue
        }
        let (dOwn, dList) = combineBackward(d, updates: 1, residuals: layer.h2Residuals.map { [Double](repeating: $0, count: 3) })
        for a in 0..<3 {
          geometry.h2[3 * e + a] += dOwn[a]
          dEquivariant[3 * j + a] = dList[0][a]
        }
      }
      if let attention = update.attention {
        pairAttentionBackward(attention, c, graph: graph, g2: g2, gradient: dAttention, equivariantGradient: dEquivariant,
                              g2Input: &g2Input, geometry: &geometry)
      }
    } else {
      for j in 0..<c.n {
        let e = c.e0 + j
        addEdgeG2(j, Array(g2Gradient[e * ng2..<(e + 1) * ng2]))
        for a in 0..<3 { geometry.h2[3 * e + a] += h2Gradient[3 * e + a] }
      }
    }
    for x in 0..<ng1 { g1Input[c.i * ng1 + x] += dCentre[x] }
    for (j, atom) in c.neighbors.enumerated() { for x in 0..<ng1 { g1Input[atom * ng1 + x] += dNbr[j * ng1 + x] } }
  }

  func grrgBackward(_ d: [Double], hg: [Double], width: Int) -> [Double] {
    var out = [Double](repeating: 0, count: 3 * width)
    for k in 0..<model.axisCount {
      for x in 0..<width {
        let g = d[k * width + x] / 3
        for a in 0..<3 {
          out[a * width + x] += g * hg[a * width + k]
          out[a * width + k] += g * hg[a * width + x]
        }
      }
    }
    return out
  }

  /// Through hg[a][x] = Σ_j h_j[a] f_j[x] sw_j s to f (into `df`, n × width), h2 and the switches.
  func hgBackward(_ c: Centre, graph: RepformerGraph, _ dhg: [Double], features f: [Double], width: Int,
                  into df: inout [Double], geometry: inout RepformerGeometryGradient) {
    let s = scale(model.selection)
    for j in 0..<c.n {
      let e = c.e0 + j, sw = graph.edgeSwitch[e]
      for a in 0..<3 {
        let h = h2[3 * e + a]
        var along = 0.0
        for x in 0..<width {
          df[j * width + x] += dhg[a * width + x] * h * sw * s
          along += dhg[a * width + x] * f[j * width + x]
        }
        geometry.h2[3 * e + a] += along * sw * s
        geometry.edgeSwitch[e] += along * h * s
      }
    }
  }

  func localAttentionBackward(_ t: RepformerModel.LocalAttention, _ c: Centre, graph: RepformerGraph, values v: Values,
                              gradient: [Double], centre dCentre: inout [Double], neighbors dNbr: inout [Double],
                              geometry: inout RepformerGeometryGradient) {
    let ng1 = model.g1Width, nd = t.hidden, nh = t.heads, width = (nd + ng1) * nh
    let root = Double(nd).squareRoot()
    let dFlat = affineBackward(t.head, gradient)
    var dq = [Double](repeating: 0, count: nd * nh)
    var dkv = [Double](repeating: 0, count: c.n * width)
    for h in 0..<nh {
      var dp = [Double](repeating: 0, count: c.n)
      for j in 0..<c.n {
        let e = c.e0 + j, sw = graph.edgeSwitch[e], p = v.p1[h * c.n + j]
        var dw = 0.0
        for x in 0..<ng1 {
          dw += dFlat[h * ng1 + x] * v.kv[j * width + (nd + x) * nh + h]
          dkv[j * width + (nd + x) * nh + h] += p * sw * dFlat[h * ng1 + x]
        }
        dp[j] = dw * sw
        geometry.edgeSwitch[e] += dw * p
      }
      var along = 0.0
      for j in 0..<c.n { along += v.p1[h * c.n + j] * dp[j] }
      for j in 0..<c.n {
        let e = c.e0 + j, sw = graph.edgeSwitch[e]
        let dz = v.p1[h * c.n + j] * (dp[j] - along)
        let da = dz * sw
        geometry.edgeSwitch[e] += dz * (v.a1[h * c.n + j] + 20)
        for d in 0..<nd {
          dq[d * nh + h] += da * v.kv[j * width + d * nh + h] / root
          dkv[j * width + d * nh + h] += da * v.q[d * nh + h] / root
        }
      }
    }
    let dg = affineBackward(t.query, dq)
    for x in 0..<ng1 { dCentre[x] += dg[x] }
    for j in 0..<c.n {
      let dn = affineBackward(t.keyValue, Array(dkv[j * width..<(j + 1) * width]))
      for x in 0..<ng1 { dNbr[j * ng1 + x] += dn[x] }
    }
  }

  func pairAttentionBackward(_ t: RepformerModel.PairAttention, _ c: Centre, graph: RepformerGraph, g2: [Double],
                             gradient dy: [Double], equivariantGradient dev: [Double], g2Input: inout [Double],
                             geometry: inout RepformerGeometryGradient) {
    let ng2 = model.g2Width, nd = t.hidden, nh = t.heads, n = c.n
    let v = pairAttention(t, c, graph: graph, g2: g2)
    let root = Double(nd).squareRoot(), root3 = 3.0.squareRoot()
    var dFlat = [Double](repeating: 0, count: n * ng2 * nh)
    for j in 0..<n {
      guard let apply = t.apply else { break }
      // LayerNorm, then head_map.
      let dHat = (0..<ng2).map { dy[j * ng2 + $0] * apply.normWeight[$0] }
      let mean = dHat.reduce(0, +) / Double(ng2)
      var meanProduct = 0.0
      for x in 0..<ng2 { meanProduct += dHat[x] * v.hat[j * ng2 + x] }
      meanProduct /= Double(ng2)
      let dO = (0..<ng2).map { v.inverse[j] * (dHat[$0] - mean - v.hat[j * ng2 + $0] * meanProduct) }
      let d = affineBackward(apply.head, dO)
      for x in 0..<ng2 * nh { dFlat[j * ng2 * nh + x] = d[x] }
    }
    var dValue = [Double](repeating: 0, count: n * ng2 * nh)
    var dqk = [Double](repeating: 0, count: n * 2 * nd * nh)
    for h in 0..<nh {
      for j in 0..<n {
        let ej = c.e0 + j, swj = graph.edgeSwitch[ej]
        var dp = [Double](repeating: 0, count: n)
        var dAA = [Double](repeating: 0, count: n)
        for k in 0..<n {
          var sum = 0.0
          if t.apply != nil {
            for x in 0..<ng2 {
              sum += dFlat[j * ng2 * nh + x * nh + h] * v.value[k * ng2 * nh + x * nh + h]
              dValue[k * ng2 * nh + x * nh + h] += v.aa[(h * n + j) * n + k] * dFlat[j * ng2 * nh + x * nh + h]
            }
          }
          if let equivariant = t.equivariant {
            let w = equivariant.weights[h], ek = c.e0 + k
            for x in 0..<3 {
              sum += w * dev[3 * j + x] * h2[3 * ek + x]
              geometry.h2[3 * ek + x] += v.aa[(h * n + j) * n + k] * w * dev[3 * j + x]
            }
          }
          dAA[k] = sum
        }
        var dS = [Double](repeating: 0, count: n), dH = [Double](repeating: 0, count: n)
        for k in 0..<n {
          let ek = c.e0 + k, s = swj * graph.edgeSwitch[ek], hh = dot(ej, ek), p = v.p[(h * n + j) * n + k]
          dp[k] = dAA[k] * s * hh / root3
          dS[k] += dAA[k] * p * hh / root3
          dH[k] += dAA[k] * p * s / root3
        }
        var along = 0.0
        for k in 0..<n { along += v.p[(h * n + j) * n + k] * dp[k] }
        for k in 0..<n {
          let ek = c.e0 + k, swk = graph.edgeSwitch[ek], s = swj * swk, hh = dot(ej, ek)
          let p = v.p[(h * n + j) * n + k], b = v.b[(h * n + j) * n + k]
          let dz = p * (dp[k] - along)
          let a = t.gate ? b * hh : b
          let dA = dz * s
          dS[k] += dz * (a + 20)
          let dB = dA * (t.gate ? hh : 1)
          if t.gate { dH[k] += dA * b }
          for d in 0..<nd {
            let q = j * 2 * nd * nh + d * 2 * nh + h, kk = k * 2 * nd * nh + d * 2 * nh + nh + h
            dqk[q] += dB * v.qk[kk] / root
            dqk[kk] += dB * v.qk[q] / root
          }
          geometry.edgeSwitch[ej] += dS[k] * swk
          geometry.edgeSwitch[ek] += dS[k] * swj
          for x in 0..<3 {
            geometry.h2[3 * ej + x] += dH[k] * h2[3 * ek + x]
            geometry.h2[3 * ek + x] += dH[k] * h2[3 * ej + x]
          }
        }
      }
    }
    for j in 0..<n {
      let a = t.apply.map { affineBackward($0.value, Array(dValue[j * ng2 * nh..<(j + 1) * ng2 * nh])) }
      let b = affineBackward(t.queryKey, Array(dqk[j * 2 * nd * nh..<(j + 1) * 2 * nd * nh]))
      for x in 0..<ng2 { g2Input[(c.e0 + j) * ng2 + x] += (a?[x] ?? 0) + b[x] }
    }
  }
}
