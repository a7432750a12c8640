extension AttentionEvaluator {
  /// The backward pass of `describeAndFit`, from ∂E_i/∂D (left by the fitting network in
  /// `state.descriptorGradient`) through the contraction, every attention layer in reverse, the
  /// embedding and the environment rows, to g = ∂E_i/∂r_ij of each real neighbour; adds forces,
  /// the virial and the neighbours' atomic virials exactly as the se_e2_a backward pass does.
  func differentiate(atom i: Int, types: UnsafePointer<Int32>, forces f: UnsafeMutablePointer<Double>,
                     virial: inout InlineArray<9, Double>, atomVirials: UnsafeMutablePointer<Double>?) {
    let s = state, n = slotCount, m = width
    let ti = Int(types[i])
    // ∂E/∂T[e][c] = Σ_a A[e][a] T[a][c] + [e < M2] Σ_p A[p][e] T[p][c], A = ∂E/∂D (M1 × M2).
    let dD = s.descriptorGradient, t = s.contraction, dT = s.contractionGradient
    for e in 0..<m {
      for c in 0..<4 {
        var sum = 0.0
        for a in 0..<axes { sum += dD[e * axes + a] * t[a * 4 + c] }
        if e < axes { for p in 0..<m { sum += dD[p * axes + e] * t[p * 4 + c] } }
        dT[e * 4 + c] = sum
      }
    }
    // T = Σ_k G_k ⊗ R̂_k / nnei: ∂E/∂G_k and the first part of ∂E/∂R̂_k.
    let g = s.embeddings + model.attentionLayers.count * n * m
    var dG = s.gradient, dNext = s.gradientNext
    let scale = 1 / Double(n)
    for k in 0..<n {
      for e in 0..<m {
        var sum = 0.0
        for c in 0..<4 { sum += dT[e * 4 + c] * s.rows[4 * k + c] }
        dG[k * m + e] = sum * scale
      }
      for c in 0..<4 {
        var sum = 0.0
        for e in 0..<m { sum += dT[e * 4 + c] * g[k * m + e] }
        s.rowGradient[4 * k + c] = sum * scale
      }
    }
    s.switchGradient.update(repeating: 0, count: n)
    s.directionGradient.update(repeating: 0, count: 3 * n)
    for l in stride(from: model.attentionLayers.count - 1, through: 0, by: -1) {
      attendBackward(model.attentionLayers[l], index: l, outputGradient: dG, inputGradient: dNext)
      swap(&dG, &dNext)
    }
    embedBackward(centreType: ti, gradient: dG)
    // r̂ = u / max(|u|, 1e-12) with u = R̂[1:4].
    for k in 0..<n {
      let r = s.directions + 3 * k, dr = s.directionGradient + 3 * k, norm = s.directionNorm[k]
      if norm >= normalizationFloor {
        let along = r[0] * dr[0] + r[1] * dr[1] + r[2] * dr[2]
        for c in 0..<3 { s.rowGradient[4 * k + 1 + c] += (dr[c] - r[c] * along) / norm }
      } else {
        for c in 0..<3 { s.rowGradient[4 * k + 1 + c] += dr[c] / normalizationFloor }
      }
    }
    model.deviation.withUnsafeBufferPointer { deviation in
      for k in 0..<n where s.real[k] != 0 {
        let j = Int(s.slots[k])
        let statistics = (ti * n + k) * 4
        var dR = SIMD4<Double>()
        for c in 0..<4 { dR[c] = s.rowGradient[4 * k + c] / deviation[statistics + c] }
        let d = s.displacement + 3 * k
        let r = SIMD3(d[0], d[1], d[2])
        let length = (r * r).sum().squareRoot()
        let rho = length + model.protection
        let w = s.switchValue[k], dw = s.switchSlope[k]
        let angular = SIMD3(dR[1], dR[2], dR[3])
        // g = ∂E_i/∂r_ij through R_0 = w/ρ, R_a = w·r_a/ρ² and the switch's own uses (attention).
        let radialPart = dR[0] * (dw / rho - w / (rho * rho))
          + (angular * r).sum() * (dw / (rho * rho) - 2 * w / (rho * rho * rho)) + s.switchGradient[k] * dw
        let gradient = (r / length) * radialPart + angular * (w / (rho * rho))
        for p in 0..<3 {
          f[3 * i + p] += gradient[p]
          f[3 * j + p] -= gradient[p]
          for q in 0..<3 {
            let term = gradient[p] * r[q]
            virial[3 * p + q] -= term
            atomVirials?[9 * j + 3 * p + q] -= term
          }
        }
      }
    }
  }

  /// ∂E/∂G of layer `l`'s input from ∂E/∂G of its output; adds the switches' and the directions'
  /// gradients into `state.switchGradient` and `state.directionGradient`.
  private func attendBackward(_ layer: AttentionModel.AttentionLayer, index l: Int,
                              outputGradient dOut: UnsafePointer<Double>, inputGradient dIn: UnsafeMutablePointer<Double>) {
    let s = state, n = slotCount, m = width, h = layer.hidden
    let q = s.queries + l * n * s.hidden, k = s.keys + l * n * s.hidden, v = s.values + l * n * s.hidden
    let norms = s.norms + l * 3 * n
    let scores = s.scores + l * n * n, softmax = s.softmax + l * n * n, weights = s.weights + l * n * n
    let normalized = s.normalized + l * n * m, inverse = s.inverseDeviation + l * n
    let sw = s.switchValue, dsw = s.switchGradient
    // LayerNorm, then the residual: ∂E/∂(G + out) goes to both G and out.
    let dO = s.outputGradient, dP = s.projectionGradient
    for a in 0..<n {
      let hat = normalized + a * m, dy = dIn + a * m
      var mean = 0.0, meanAlong = 0.0
      for e in 0..<m {
        let dHat = dOut[a * m + e] * (layer.normWeight?[e] ?? 1)
        dy[e] = dHat
        mean += dHat
        meanAlong += dHat * hat[e]
      }
      mean /= Double(m)
      meanAlong /= Double(m)
      for e in 0..<m { dy[e] = inverse[a] * (dy[e] - mean - hat[e] * meanAlong) }
    }
    // out = o·W_out: ∂o = ∂out·W_outᵀ.
    layer.outputProjection.weights.withUnsafeBufferPointer { w in
      multiply(dIn, w.baseAddress!, into: dO, m: n, n: h, k: m, transposeB: true)
    }
    // o = weights·v: ∂weights = ∂o·vᵀ, ∂v = weightsᵀ·∂o (the last third of the projection's rows).
    let dW = s.weightGradient
    multiply(dO, v, into: dW, m: n, n: n, k: h, transposeB: true)
    Double.gemm(transposeA: true, transposeB: false, m: n, n: h, k: n, weights, lda: n, dO, ldb: h, beta: 0,
                dP + 2 * h, ldc: 3 * h)
    // weights = softmax · [a real] · (w_a w_b when smooth) · (r̂_a·r̂_b when gated).
    let dL = s.scoreGradient
    for a in 0..<n {
      if s.real[a] == 0 {
        for b in 0..<n { dL[a * n + b] = 0 }
        continue
      }
      var along = 0.0
      for b in 0..<n {
        let soft = softmax[a * n + b], upstream = dW[a * n + b]
        let switches = layer.smooth ? sw[a] * sw[b] : 1
        let cosine = layer.dotProductGate ? s.cosines[a * n + b] : 1
        if layer.dotProductGate {
          let dC = upstream * soft * switches
          for c in 0..<3 {
            s.directionGradient[3 * a + c] += dC * s.directions[3 * b + c]
            s.directionGradient[3 * b + c] += dC * s.directions[3 * a + c]
          }
        }
        if layer.smooth {
          let term = upstream * soft * cosine
          dsw[a] += term * sw[b]
          dsw[b] += term * sw[a]
        }
        let dSoft = upstream * switches * cosine
        dL[a * n + b] = dSoft
        along += dSoft * soft
      }
      // Softmax: ∂L = S ⊙ (∂S − Σ_b ∂S·S); then the smooth shift (A + 20)·w_a·w_b − 20.
      for b in 0..<n {
        let soft = softmax[a * n + b]
        var dLogit = soft * (dL[a * n + b] - along)
        if layer.smooth {
          let shifted = scores[a * n + b] + 20
          dsw[a] += dLogit * shifted * sw[b]
          dsw[b] += dLogit * shifted * sw[a]
          dLogit *= sw[a] * sw[b]
        }
        dL[a * n + b] = dLogit
      }
    }
    // A = scaling·q·kᵀ: ∂q = scaling·∂A·k, ∂k = scaling·∂Aᵀ·q.
    Double.gemm(transposeA: false, transposeB: false, m: n, n: h, k: n, dL, lda: n, k, ldb: h, beta: 0,
                dP, ldc: 3 * h)
    Double.gemm(transposeA: true, transposeB: false, m: n, n: h, k: n, dL, lda: n, q, ldb: h, beta: 0,
                dP + h, ldc: 3 * h)
    for a in 0..<n {
      for c in 0..<(2 * h) { dP[a * 3 * h + c] *= layer.scaling }
    }
    // Normalisation x̂ = x / max(|x|, 1e-12) of q, k and v.
    if layer.normalizes {
      for a in 0..<n {
        for part in 0..<3 {
          let hat = (part == 0 ? q : part == 1 ? k : v) + a * h, dx = dP + a * 3 * h + part * h
          let norm = norms[part * n + a]
          if norm >= normalizationFloor {
            var along = 0.0
            for c in 0..<h { along += hat[c] * dx[c] }
            for c in 0..<h { dx[c] = (dx[c] - hat[c] * along) / norm }
          } else {
            for c in 0..<h { dx[c] /= normalizationFloor }
          }
        }
      }
    }
    // [q k v] = G·W_in + b: ∂G += ∂[q k v]·W_inᵀ.
    layer.inputProjection.weights.withUnsafeBufferPointer { w in
      multiply(dP, w.baseAddress!, into: dIn, m: n, n: m, k: 3 * h, transposeB: true, accumulate: true)
    }
  }

  /// Through the embedding of `embed` to ∂E/∂s (the radial input, R̂_k[0]) and, in strip mode with
  /// the smooth type embedding, to the switch weighting the type factor.
  private func embedBackward(centreType ti: Int, gradient dG: UnsafeMutablePointer<Double>) {
    let s = state, n = slotCount, m = width
    switch model.inputMode {
    case .concat(let network):
      geometric.backward(dG, into: s.embeddingInputGradient)
      for k in 0..<n { s.rowGradient[4 * k] += s.embeddingInputGradient[k * network.inputWidth] }
    case .strip(_, let table):
      let padded = model.typeCount + 1
      table.withUnsafeBufferPointer { table in
        for k in 0..<n {
          let pair = model.typeOneSide ? s.typeRow[k] : ti * padded + s.typeRow[k]
          let gs = radialEmbedding + k * m, f = s.stripFactor + k * m, d = dG + k * m
          var switchPart = 0.0
          for e in 0..<m {
            switchPart += d[e] * gs[e] * table[pair * m + e]
            d[e] *= 1 + f[e]
          }
          if model.smooth { s.switchGradient[k] += switchPart }
        }
      }
      if model.radialTable != nil {
        for k in 0..<n {
          let d = dG + k * m, slope = s.radialSlope + k * m
          var sum = 0.0
          for e in 0..<m { sum += d[e] * slope[e] }
          s.rowGradient[4 * k] += sum
        }
      } else {
        geometric.backward(dG, into: s.embeddingInputGradient)
        for k in 0..<n { s.rowGradient[4 * k] += s.embeddingInputGradient[k] }
      }
    }
  }
}
