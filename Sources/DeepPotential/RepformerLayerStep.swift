import Foundation

/// One repformer layer on one owned centre, as DeePMD-kit's `RepformerLayer.call`
/// (`deepmd/dpmodel/descriptor/repformers.py`, smooth form): the centre's new g1 and, except in the
/// last layer, its edges' new g2, from the layer's inputs; and the backward pass, which recomputes
/// the centre's forward values and sends ∂/∂ of its outputs to ∂/∂ of every input (the centre's and
/// neighbours' g1, its edges' g2, h2 and switches).
///
/// Only real edges are held. Padding slots (sel minus the real neighbours) still sit in both
/// attentions' softmax, at the score −20 the switch gives them, so they enter as P·e^−20 in the
/// denominators.
struct RepformerLayerStep {
  let model: RepformerModel
  let layer: RepformerModel.RepformerLayer
  /// The layer's input h2, edges × 3 (the environment rows' last three unless update_h2 changed them).
  let h2: [Double]

  /// h2_a · h2_b.
  func dot(_ a: Int, _ b: Int) -> Double { h2[3 * a] * h2[3 * b] + h2[3 * a + 1] * h2[3 * b + 1] + h2[3 * a + 2] * h2[3 * b + 2] }

  /// The centre's view of the layer's inputs.
  struct Centre {
    let i: Int
    /// First edge and real edge count; padding slots up to sel.
    let e0: Int, n: Int, padding: Int
    /// Neighbour atom of each edge.
    let neighbors: ArraySlice<Int>
  }

  /// The forward values of one centre that the backward pass reads.
  struct Values {
    var g1 = [Double](), nbr = [Double]()  // centre ng1; neighbours n × ng1
    var selfMLP = [Double](), selfZ = [Double]()
    var conv = [Double](), convProjected = [Double]()  // conv output; per edge projection
    var mlpInput = [Double](), linear1Z = [Double](), g1Update = [Double]()
    var hgEdge = [Double](), hgNode = [Double]()  // 3 × ng2, 3 × ng1
    // local attention
    var q = [Double](), kv = [Double](), a1 = [Double](), p1 = [Double](), flat1 = [Double](), attention1 = [Double]()
  }

  var nd1: Int { layer.localAttention?.hidden ?? 0 }

  func scale(_ count: Int) -> Double { model.sqrtNormalization ? 1 / Double(count).squareRoot() : 1 / Double(count) }

  // MARK: forward

  func forward(_ c: Centre, graph: RepformerGraph, g1: [Double], g2: [Double], nextG1: inout [Double],
               nextG2: inout [Double], nextH2: inout [Double]) {
    let v = values(c, graph: graph, g1: g1, g2: g2)
    let m = model, ng1 = m.g1Width
    var updates: [[Double]] = []
    if layer.g1SelfMLP != nil { updates.append(v.selfMLP) }
    if layer.convolution != nil, m.convolutionOut { updates.append(v.conv) }
    updates.append(v.g1Update)
    if layer.localAttention != nil { updates.append(v.attention1) }
    let combined = combine(v.g1, updates, residuals: layer.g1Residuals)
    for x in 0..<ng1 { nextG1[c.i * ng1 + x] = combined[x] }
    guard let update = layer.g2 else { return }
    let ng2 = m.g2Width
    let pair = update.attention.map { pairAttention($0, c, graph: graph, g2: g2) }
    let attended = pair?.output ?? []
    if let pair, let equivariant = update.attention?.equivariant {
      let ev = equivariantUpdate(equivariant, pair: pair, c)
      for j in 0..<c.n {
        let e = c.e0 + j
        let new = combine(Array(h2[3 * e..<3 * e + 3]), [Array(ev[3 * j..<3 * j + 3])],
                          residuals: layer.h2Residuals.map { [Double](repeating: $0, count: 3) })
        for a in 0..<3 { nextH2[3 * e + a] = new[a] }
      }
    }
    for j in 0..<c.n {
      let e = c.e0 + j
      let own = Array(g2[e * ng2..<(e + 1) * ng2])
      var list: [[Double]] = [affine(update.linear2, own).map(m.activation.value)]
      if let g1g1 = update.g1g1 {
        let sw = graph.edgeSwitch[e]
        list.append(affine(g1g1, (0..<ng1).map { v.g1[$0] * v.nbr[j * ng1 + $0] * sw }))
      }
      if update.attention?.apply != nil { list.append(Array(attended[j * ng2..<(j + 1) * ng2])) }
      let new = combine(own, list, residuals: layer.g2Residuals)
      for x in 0..<ng2 { nextG2[e * ng2 + x] = new[x] }
    }
  }

  /// The centre's g1 updates and what their backward passes need.
  func values(_ c: Centre, graph: RepformerGraph, g1: [Double], g2: [Double]) -> Values {
    let m = model, ng1 = m.g1Width, ng2 = m.g2Width, sel = Double(m.selection)
    var v = Values()
    v.g1 = Array(g1[c.i * ng1..<(c.i + 1) * ng1])
    for j in c.neighbors { v.nbr += g1[j * ng1..<(j + 1) * ng1] }
    if let mlp = layer.g1SelfMLP {
      v.selfZ = affine(mlp, v.g1)
      v.selfMLP = v.selfZ.map(m.activation.value)
    } else {
      v.mlpInput = v.g1
    }
    if let conv = layer.convolution {
      // Σ_j g2_j ⊙ proj(g1_j) (or proj(g2_j) ⊙ g1_j) · sw_j / sel: sel, not √sel, here.
      let width = m.convolutionOut ? ng1 : ng2
      var out = [Double](repeating: 0, count: width)
      for j in 0..<c.n {
        let e = c.e0 + j, sw = graph.edgeSwitch[e]
        let own = Array(g2[e * ng2..<(e + 1) * ng2]), nbr = Array(v.nbr[j * ng1..<(j + 1) * ng1])
        let projected = m.convolutionOut ? affine(conv, own) : affine(conv, nbr)
        v.convProjected += projected
        for x in 0..<width { out[x] += projected[x] * (m.convolutionOut ? nbr[x] : own[x]) * sw / sel }
      }
      if m.convolutionOut { v.conv = out } else { v.mlpInput += out }
    }
    if layer.hasGrrg {
      v.hgEdge = hg(c, graph: graph, features: g2, offset: c.e0, width: ng2)
      v.mlpInput += grrg(v.hgEdge, width: ng2)
    }
    if layer.hasDrrd {
      v.hgNode = hg(c, graph: graph, features: v.nbr, offset: 0, width: ng1)
      v.mlpInput += grrg(v.hgNode, width: ng1)
    }
    v.linear1Z = affine(layer.linear1, v.mlpInput)
    v.g1Update = v.linear1Z.map(m.activation.value)
    if let attention = layer.localAttention { localAttention(attention, c, graph: graph, values: &v) }
    return v
  }

  /// hg[a][x] = Σ_j h_j[a] f_j[x] sw_j · (1/√sel or 1/sel): 3 × width.
  func hg(_ c: Centre, graph: RepformerGraph, features f: [Double], offset: Int, width: Int) -> [Double] {
    var out = [Double](repeating: 0, count: 3 * width)
    let s = scale(model.selection)
    for j in 0..<c.n {
      let e = c.e0 + j, sw = graph.edgeSwitch[e]
      for a in 0..<3 {
        let h = h2[3 * e + a] * sw * s
        for x in 0..<width { out[a * width + x] += h * f[(offset + j) * width + x] }
      }
    }
    return out
  }

  /// grrg[k][x] = Σ_a hg[a][k] hg[a][x] / 3 for k < axis_neuron: axis × width.
  func grrg(_ hg: [Double], width: Int) -> [Double] {
    var out = [Double](repeating: 0, count: model.axisCount * width)
    for k in 0..<model.axisCount {
      for x in 0..<width {
        var sum = 0.0
        for a in 0..<3 { sum += hg[a * width + k] * hg[a * width + x] }
        out[k * width + x] = sum / 3
      }
    }
    return out
  }

  /// `loc_attn`: q from the centre, k and v from each neighbour, per head
  /// w_j = softmax_j((q·k_j/√d + 20)·sw_j − 20)·sw_j, then head_map of [Σ_j w_j v_j per head].
  func localAttention(_ attention: RepformerModel.LocalAttention, _ c: Centre, graph: RepformerGraph, values v: inout Values) {
    let ng1 = model.g1Width, nd = attention.hidden, nh = attention.heads
    let width = (nd + ng1) * nh
    v.q = affine(attention.query, v.g1)
    v.kv = []
    for j in 0..<c.n { v.kv += affine(attention.keyValue, Array(v.nbr[j * ng1..<(j + 1) * ng1])) }
    v.a1 = [Double](repeating: 0, count: nh * c.n)
    v.p1 = [Double](repeating: 0, count: nh * c.n)
    v.flat1 = [Double](repeating: 0, count: nh * ng1)
    let root = Double(nd).squareRoot()
    for h in 0..<nh {
      var z = [Double](repeating: 0, count: c.n)
      for j in 0..<c.n {
        var dot = 0.0
        for d in 0..<nd { dot += v.q[d * nh + h] * v.kv[j * width + d * nh + h] }
        v.a1[h * c.n + j] = dot / root
        z[j] = (dot / root + 20) * graph.edgeSwitch[c.e0 + j] - 20
      }
      let p = softmax(z, padding: c.padding)
      for j in 0..<c.n {
        v.p1[h * c.n + j] = p[j]
        let w = p[j] * graph.edgeSwitch[c.e0 + j]
        for x in 0..<ng1 { v.flat1[h * ng1 + x] += w * v.kv[j * width + (nd + x) * nh + h] }
      }
    }
    v.attention1 = affine(attention.head, v.flat1)
  }

  /// The softmax of `z` with `padding` further entries at −20.
  func softmax(_ z: [Double], padding: Int) -> [Double] {
    let top = max(z.max() ?? -20, -20)
    var sum = padding > 0 ? Double(padding) * Foundation.exp(-20 - top) : 0
    var p = z.map { Foundation.exp($0 - top) }
    for x in p { sum += x }
    for k in p.indices { p[k] /= sum }
    return p
  }

  /// The pair attention's forward values of one centre.
  struct PairValues {
    var qk = [Double](), value = [Double]()  // per edge
    var b = [Double](), p = [Double](), aa = [Double]()  // per head, edge pair: raw score, softmax, weight
    var flat = [Double](), o = [Double](), hat = [Double](), inverse = [Double](), output = [Double]()
  }

  /// `attn2g_map` → `attn2_mh_apply` → `attn2_lm` over the centre's edges (rows j, columns k).
  func pairAttention(_ t: RepformerModel.PairAttention, _ c: Centre, graph: RepformerGraph, g2: [Double]) -> PairValues {
    let ng2 = model.g2Width, nd = t.hidden, nh = t.heads, n = c.n
    var v = PairValues()
    for j in 0..<n {
      let own = Array(g2[(c.e0 + j) * ng2..<(c.e0 + j + 1) * ng2])
      v.qk += affine(t.queryKey, own)
      if let apply = t.apply { v.value += affine(apply.value, own) }
    }
    v.b = [Double](repeating: 0, count: nh * n * n)
    v.p = v.b
    v.aa = v.b
    let root = Double(nd).squareRoot()
    for h in 0..<nh {
      for j in 0..<n {
        var z = [Double](repeating: 0, count: n)
        for k in 0..<n {
          var qk = 0.0
          for d in 0..<nd { qk += v.qk[j * 2 * nd * nh + d * 2 * nh + h] * v.qk[k * 2 * nd * nh + d * 2 * nh + nh + h] }
          let b = qk / root, hh = dot(c.e0 + j, c.e0 + k)
          v.b[(h * n + j) * n + k] = b
          z[k] = ((t.gate ? b * hh : b) + 20) * graph.edgeSwitch[c.e0 + j] * graph.edgeSwitch[c.e0 + k] - 20
        }
        let p = softmax(z, padding: c.padding)
        for k in 0..<n {
          let s = graph.edgeSwitch[c.e0 + j] * graph.edgeSwitch[c.e0 + k]
          v.p[(h * n + j) * n + k] = p[k]
          v.aa[(h * n + j) * n + k] = p[k] * s * dot(c.e0 + j, c.e0 + k) / 3.0.squareRoot()
        }
      }
    }
    guard let apply = t.apply else { return v }
    v.flat = [Double](repeating: 0, count: n * ng2 * nh)
    for j in 0..<n {
      for h in 0..<nh {
        for k in 0..<n {
          let w = v.aa[(h * n + j) * n + k]
          for x in 0..<ng2 { v.flat[j * ng2 * nh + x * nh + h] += w * v.value[k * ng2 * nh + x * nh + h] }
        }
      }
    }
    for j in 0..<n {
      let o = affine(apply.head, Array(v.flat[j * ng2 * nh..<(j + 1) * ng2 * nh]))
      v.o += o
      let mean = o.reduce(0, +) / Double(ng2)
      let variance = o.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(ng2)
      let inverse = 1 / (variance + apply.normEpsilon).squareRoot()
      v.inverse.append(inverse)
      for x in 0..<ng2 {
        let hat = (o[x] - mean) * inverse
        v.hat.append(hat)
        v.output.append(hat * apply.normWeight[x] + apply.normBias[x])
      }
    }
    return v
  }

  /// `attn2_ev_apply`: per edge j, Σ_h W_h Σ_k AA_hjk h2_k (n × 3).
  func equivariantUpdate(_ layer: DenseLayer, pair v: PairValues, _ c: Centre) -> [Double] {
    let n = c.n, nh = layer.inputWidth
    var out = [Double](repeating: 0, count: 3 * n)
    for h in 0..<nh {
      let w = layer.weights[h]
      for j in 0..<n {
        for k in 0..<n {
          let a = v.aa[(h * n + j) * n + k] * w
          for x in 0..<3 { out[3 * j + x] += a * h2[3 * (c.e0 + k) + x] }
        }
      }
    }
    return out
  }

  func combine(_ base: [Double], _ updates: [[Double]], residuals: [[Double]]) -> [Double] {
    var out = base
    switch model.updateStyle {
    case .residual:
      for (u, r) in zip(updates, residuals) { for x in out.indices { out[x] += r[x] * u[x] } }
    case .average:
      for u in updates { for x in out.indices { out[x] += u[x] } }
      let s = 1 / Double(updates.count + 1).squareRoot()
      for x in out.indices { out[x] *= s }
    case .increment:
      let s = updates.isEmpty ? 0 : 1 / Double(updates.count).squareRoot()
      for u in updates { for x in out.indices { out[x] += s * u[x] } }
    }
    return out
  }

  /// ∂/∂ of the base and of each update from ∂/∂ of the combination.
  func combineBackward(_ gradient: [Double], updates: Int, residuals: [[Double]]) -> (base: [Double], updates: [[Double]]) {
    switch model.updateStyle {
    case .residual:
      return (gradient, residuals.prefix(updates).map { r in gradient.indices.map { gradient[$0] * r[$0] } })
    case .average:
      let s = 1 / Double(updates + 1).squareRoot(), g = gradient.map { $0 * s }
      return (g, [[Double]](repeating: g, count: updates))
    case .increment:
      let s = updates == 0 ? 0 : 1 / Double(updates).squareRoot()
      return (gradient, [[Double]](repeating: gradient.map { $0 * s }, count: updates))
    }
  }
}

/// x·W + b.
func affine(_ layer: DenseLayer, _ x: [Double]) -> [Double] {
  var out = layer.bias ?? [Double](repeating: 0, count: layer.outputWidth)
  let w = layer.weights, width = layer.outputWidth
  for i in 0..<layer.inputWidth where x[i] != 0 {
    let xi = x[i]
    for o in 0..<width { out[o] += xi * w[i * width + o] }
  }
  return out
}

/// W·g: ∂/∂x of x·W + b from ∂/∂ of its output.
func affineBackward(_ layer: DenseLayer, _ g: [Double]) -> [Double] {
  let w = layer.weights, width = layer.outputWidth
  return (0..<layer.inputWidth).map { i in
    var sum = 0.0
    for o in 0..<width { sum += w[i * width + o] * g[o] }
    return sum
  }
}
