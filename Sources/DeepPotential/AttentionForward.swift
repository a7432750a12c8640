import Foundation

/// PyTorch's `F.normalize` floor: vectors shorter than this are divided by it instead.
let normalizationFloor = 1e-12

extension AttentionEvaluator {
  /// From the atom's slots (`state.slots`) to its energy, keeping every intermediate the backward
  /// pass needs.
  func describeAndFit(atom i: Int, positions x: UnsafePointer<Double>, types: UnsafePointer<Int32>,
                      paddingType: Int) -> Double {
    let ti = Int(types[i])
    if model.atomExcluded[ti] { return 0 }
    describe(atom: i, positions: x, types: types, paddingType: paddingType)
    let fitting = fittings[ti]
    fitting.input.update(from: state.descriptor, count: model.descriptorWidth)
    fitting.forward(rows: 1)
    var one = 1.0
    fitting.backward(&one, into: state.descriptorGradient)
    return ((fitting.output[0] - model.vacuumEnergy[ti]) + model.fittingBias[ti]) + model.outputBias[ti]
  }

  /// From the atom's slots to its descriptor (`state.descriptor`), keeping what `differentiate`
  /// needs; a hybrid model fits it together with its other parts.
  func describe(atom i: Int, positions x: UnsafePointer<Double>, types: UnsafePointer<Int32>, paddingType: Int) {
    let ti = Int(types[i])
    environment(atom: i, positions: x, types: types, paddingType: paddingType)
    embed(centreType: ti)
    for (l, layer) in model.attentionLayers.enumerated() { attend(layer, index: l) }
    contract(centreType: ti)
  }

  /// Environment rows R̂_k = (R_k − davg)/dstd of every slot (spec §3): a real neighbour's
  /// R = w·(1/ρ, r/ρ²); padding has R = 0 (so R̂ = −davg/dstd, as DeePMD-kit's dense path leaves
  /// it); a neighbour of a descriptor-excluded type pair has R̂ = 0. Only real neighbours switch on.
  private func environment(atom i: Int, positions x: UnsafePointer<Double>, types: UnsafePointer<Int32>,
                           paddingType: Int) {
    let ti = Int(types[i]), n = model.typeCount
    let xi = SIMD3(x[3 * i], x[3 * i + 1], x[3 * i + 2])
    let s = state
    model.average.withUnsafeBufferPointer { average in
      model.deviation.withUnsafeBufferPointer { deviation in
        for k in 0..<slotCount {
          let j = Int(s.slots[k])
          let statistics = (ti * slotCount + k) * 4
          let row = s.rows + 4 * k
          let excluded = j >= 0 && model.descriptorExcluded[ti * n + Int(types[j])]
          s.switchValue[k] = 0
          s.switchSlope[k] = 0
          s.real[k] = 0
          // Padding and excluded neighbours read their type through index 0 (DeePMD-kit's gather).
          s.typeRow[k] = paddingType
          if j < 0 || excluded {
            for c in 0..<4 { row[c] = excluded ? 0 : (0 - average[statistics + c]) / deviation[statistics + c] }
          } else {
            let r = SIMD3(x[3 * j], x[3 * j + 1], x[3 * j + 2]) - xi
            let d = s.displacement + 3 * k
            d[0] = r.x; d[1] = r.y; d[2] = r.z
            let length = (r * r).sum().squareRoot()
            let rho = length + model.protection
            let (w, dw) = smoothSwitch(length, smoothingStart: model.smoothingStart, cutoff: model.cutoff)
            let raw = SIMD4(w / rho, r.x / (rho * rho) * w, r.y / (rho * rho) * w, r.z / (rho * rho) * w)
            for c in 0..<4 { row[c] = (raw[c] - average[statistics + c]) / deviation[statistics + c] }
            s.switchValue[k] = w
            s.switchSlope[k] = dw
            s.real[k] = 1
            s.typeRow[k] = Int(types[j])
          }
          // r̂ for the dot-product gate: the angular part of R̂, normalised (PyTorch's F.normalize).
          let norm = (row[1] * row[1] + row[2] * row[2] + row[3] * row[3]).squareRoot()
          s.directionNorm[k] = norm
          let divisor = max(norm, normalizationFloor)
          for c in 0..<3 { s.directions[3 * k + c] = row[1 + c] / divisor }
        }
        for a in 0..<slotCount {
          for b in 0..<slotCount {
            let p = s.directions + 3 * a, q = s.directions + 3 * b
            s.cosines[a * slotCount + b] = p[0] * q[0] + p[1] * q[1] + p[2] * q[2]
          }
        }
      }
    }
  }

  /// G of every slot before the attention layers: concat mode N([s, T_j(, T_i)]); strip mode
  /// N(s) ⊙ (1 + f) with f = N_t(T_j, T_i) (· w when smooth), N(s) from the table when there is one.
  private func embed(centreType ti: Int) {
    let s = state, m = width
    let tebd = model.typeEmbeddingWidth
    switch model.inputMode {
    case .concat(let network):
      let inputs = network.inputWidth
      model.typeEmbedding.withUnsafeBufferPointer { embedding in
        for k in 0..<slotCount {
          let row = geometric.input + k * inputs
          row[0] = s.rows[4 * k]
          for c in 0..<tebd { row[1 + c] = embedding[s.typeRow[k] * tebd + c] }
          if !model.typeOneSide { for c in 0..<tebd { row[1 + tebd + c] = embedding[ti * tebd + c] } }
        }
      }
      geometric.forward(rows: slotCount)
      s.embeddings.update(from: geometric.output, count: slotCount * m)
    case .strip(_, let table):
      if let radial = model.radialTable {
        for k in 0..<slotCount {
          radial.evaluate(s.rows[4 * k], values: s.radialValues + k * m, slopes: s.radialSlope + k * m)
        }
      } else {
        for k in 0..<slotCount { geometric.input[k] = s.rows[4 * k] }
        geometric.forward(rows: slotCount)
      }
      let padded = model.typeCount + 1
      table.withUnsafeBufferPointer { table in
        for k in 0..<slotCount {
          let pair = model.typeOneSide ? s.typeRow[k] : ti * padded + s.typeRow[k]
          let weight = model.smooth ? s.switchValue[k] : 1
          let g = radialEmbedding + k * m, f = s.stripFactor + k * m, out = s.embeddings + k * m
          for c in 0..<m {
            f[c] = table[pair * m + c] * weight
            out[c] = g[c] * f[c] + g[c]
          }
        }
      }
    }
  }

  /// N(s) of every slot in strip mode: the table's values, or the network's output.
  var radialEmbedding: UnsafePointer<Double> {
    model.radialTable != nil ? UnsafePointer(state.radialValues) : geometric.output
  }

  /// One gated self-attention layer with its residual and LayerNorm, from embedding block `l` to
  /// block `l + 1` (DeePMD-kit's `NeighborGatedAttentionLayer`).
  private func attend(_ layer: AttentionModel.AttentionLayer, index l: Int) {
    let s = state, n = slotCount, m = width, h = layer.hidden
    let input = s.embeddings + l * n * m, output = input + n * m
    let q = s.queries + l * n * s.hidden, k = s.keys + l * n * s.hidden, v = s.values + l * n * s.hidden
    let norms = s.norms + l * 3 * n
    let scores = s.scores + l * n * n, softmax = s.softmax + l * n * n, weights = s.weights + l * n * n
    // q, k, v = G·W_in + b, each normalised when the layer says so.
    let projection = layer.inputProjection, projected = s.projected
    projection.weights.withUnsafeBufferPointer { w in
      multiply(input, w.baseAddress!, into: projected, m: n, n: 3 * h, k: m)
    }
    for a in 0..<n {
      for part in 0..<3 {
        let target = (part == 0 ? q : part == 1 ? k : v) + a * h
        for c in 0..<h { target[c] = projected[a * 3 * h + part * h + c] + (projection.bias?[part * h + c] ?? 0) }
        var norm = 1.0
        if layer.normalizes {
          var sum = 0.0
          for c in 0..<h { sum += target[c] * target[c] }
          norm = sum.squareRoot()
          let divisor = max(norm, normalizationFloor)
          for c in 0..<h { target[c] /= divisor }
        }
        norms[part * n + a] = norm
      }
    }
    // Scores A = scaling·q·kᵀ; the smooth form shifts them by the switches instead of masking.
    multiply(q, k, into: scores, m: n, n: n, k: h, transposeB: true)
    let shift = 20.0
    for a in 0..<n {
      let row = scores + a * n, logits = softmax + a * n
      for b in 0..<n {
        let dot = row[b] * layer.scaling
        row[b] = dot
        logits[b] = layer.smooth ? (dot + shift) * s.switchValue[a] * s.switchValue[b] - shift : dot
      }
      // Softmax over the keys (real keys only when not smooth); a padded query's row is zero.
      if s.real[a] == 0 {
        for b in 0..<n { logits[b] = 0 }
        continue
      }
      var largest = -Double.infinity
      for b in 0..<n where layer.smooth || s.real[b] != 0 { largest = max(largest, logits[b]) }
      var total = 0.0
      for b in 0..<n {
        let e = layer.smooth || s.real[b] != 0 ? Foundation.exp(logits[b] - largest) : 0
        logits[b] = e
        total += e
      }
      for b in 0..<n { logits[b] /= total }
    }
    for a in 0..<n {
      for b in 0..<n {
        var weight = softmax[a * n + b]
        if layer.smooth { weight *= s.switchValue[a] * s.switchValue[b] }
        if layer.dotProductGate { weight *= s.cosines[a * n + b] }
        weights[a * n + b] = weight
      }
    }
    // o = weights·v, out = o·W_out + b, then LN(G + out).
    let outputProjection = layer.outputProjection
    let normalized = s.normalized + l * n * m, inverse = s.inverseDeviation + l * n
    multiply(weights, v, into: s.mixed, m: n, n: h, k: n)
    outputProjection.weights.withUnsafeBufferPointer { w in
      multiply(s.mixed, w.baseAddress!, into: output, m: n, n: m, k: h)
    }
    for a in 0..<n {
      let y = output + a * m, g = input + a * m
      for e in 0..<m { y[e] += g[e] + (outputProjection.bias?[e] ?? 0) }
      var mean = 0.0
      for e in 0..<m { mean += y[e] }
      mean /= Double(m)
      var variance = 0.0
      for e in 0..<m { variance += (y[e] - mean) * (y[e] - mean) }
      variance /= Double(m)
      let scale = 1 / (variance + layer.normEpsilon).squareRoot()
      inverse[a] = scale
      for e in 0..<m {
        let hat = (y[e] - mean) * scale
        normalized[a * m + e] = hat
        y[e] = hat * (layer.normWeight?[e] ?? 1) + (layer.normBias?[e] ?? 0)
      }
    }
  }

  /// T = Σ_k G_k ⊗ R̂_k / nnei over every slot (padding included) and D = T·T_<ᵀ, laid out
  /// [M1][M2], then the centre's type embedding when the model appends it.
  private func contract(centreType ti: Int) {
    let s = state, n = slotCount, m = width
    let g = s.embeddings + model.attentionLayers.count * n * m
    let t = s.contraction
    for e in 0..<m {
      for c in 0..<4 {
        var sum = 0.0
        for k in 0..<n { sum += g[k * m + e] * s.rows[4 * k + c] }
        t[e * 4 + c] = sum / Double(n)
      }
    }
    for e in 0..<m {
      for a in 0..<axes {
        var sum = 0.0
        for c in 0..<4 { sum += t[e * 4 + c] * t[a * 4 + c] }
        s.descriptor[e * axes + a] = sum
      }
    }
    if model.appendsTypeEmbedding {
      let tebd = model.typeEmbeddingWidth
      for c in 0..<tebd { s.descriptor[m * axes + c] = model.typeEmbedding[ti * tebd + c] }
    }
  }
}
