extension DeepPotentialEvaluator {
  /// Chain rule from ∂E_i/∂D back to every active neighbour's displacement (spec §7.2), adding
  /// forces, the virial and the neighbours' atomic virials.
  func differentiate(atom i: Int, at b: Int, types: UnsafePointer<Int32>, forces f: UnsafeMutablePointer<Double>,
                     virial: inout InlineArray<9, Double>, atomVirials: UnsafeMutablePointer<Double>?) {
    let ti = Int(types[i])
    let first = b * slotCount, count = block.activeCount[b]
    if count == 0 { return }
    // B[c][m] = Σ_a A[m][a] T[c][a] + [m < M2] Σ_p A[p][m] T[c][p]  with A = ∂E/∂D (M1 × M2).
    contractionGradient(t: block.contraction + b * 4 * width, a: block.descriptorGradient + b * width * axes)
    // ∂E/∂R̂_k = (G_k·Bᵀ + δ_c0 (R̂_k·B)·G'_k) / nnei, where (R̂_k·B)·G'_k = R̂_k·(G'_k·Bᵀ):
    // per section, one product [G; G']·Bᵀ gives both, laid out as the embeddings are.
    let bounds = block.sectionBounds + b * (model.typeCount + 1)
    if let fusedTables {
      // G·B_c and G'·(R̂·B) of every neighbour straight from the tables, into the same layout; the
      // slope part is only ever used as R̂·(G'·Bᵀ): stored as that sum in its first lane.
      for s in 0..<model.typeCount where bounds[s + 1] > bounds[s] {
        let rows = bounds[s + 1] - bounds[s], valueParts = rowGradient + 8 * bounds[s]
        fusedTables.project(model.embeddingIndex(centre: ti, neighbor: s), rows: block.rows + 4 * (first + bounds[s]),
                            count: rows, gradient: contractionGradient, valueParts: valueParts,
                            slopeParts: valueParts + 4 * rows)
      }
    } else {
      for s in 0..<model.typeCount where bounds[s + 1] > bounds[s] {
        projectOntoFourRows(block.embedding + 2 * (first + bounds[s]) * width,
                            count: 2 * (bounds[s + 1] - bounds[s]), width: width, b: contractionGradient,
                            into: rowGradient + 8 * bounds[s])
      }
    }
    let scale = 1 / Double(slotCount)
    model.deviation.withUnsafeBufferPointer { deviation in
      var section = 0
      for at in 0..<count {
        while at == bounds[section + 1] { section += 1 }
        let sectionRows = bounds[section + 1] - bounds[section]
        let valuePart = rowGradient + 4 * (bounds[section] + at), slopePart = valuePart + 4 * sectionRows
        let j = Int(block.neighbor[first + at])
        let statistics = (ti * slotCount + Int(block.slot[first + at])) * 4
        let row = block.rows + 4 * (first + at)
        var radial = 0.0
        if fusedTables != nil {
          radial = slopePart[0]
        } else {
          for c in 0..<4 { radial += row[c] * slopePart[c] }
        }
        var dR = SIMD4<Double>()
        for c in 0..<4 {
          let gradient = valuePart[c] + (c == 0 ? radial : 0)
          dR[c] = scale * gradient / deviation[statistics + c]
        }
        let d = block.displacement + 3 * (first + at)
        let r = SIMD3(d[0], d[1], d[2])
        let length = (r * r).sum().squareRoot()
        let rho = length + model.protection
        let (w, dw) = smoothSwitch(length, smoothingStart: model.smoothingStart, cutoff: model.cutoff)
        let angular = SIMD3(dR[1], dR[2], dR[3])
        // g = ∂E_i/∂r_ij through R_0 = w/ρ and R_a = w·r_a/ρ² (spec §3.5).
        let radialPart = dR[0] * (dw / rho - w / (rho * rho))
          + (angular * r).sum() * (dw / (rho * rho) - 2 * w / (rho * rho * rho))
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

  /// B = A·T_<ᵀ (all M1 rows) plus, in the first M2 rows, Aᵀ·Tᵀ: four axes at a time, the four
  /// rows of T together.
  private func contractionGradient(t: UnsafePointer<Double>, a: UnsafePointer<Double>) {
    let g = contractionGradient
    for m in 0..<width {
      var s0 = SIMD4<Double>(), s1 = s0, s2 = s0, s3 = s0
      for q in stride(from: 0, to: axes, by: 4) {
        let lanes = min(4, axes - q)
        let row = SIMD4(loading: a + m * axes + q, lanes: lanes)
        s0 = s0.addingProduct(row, SIMD4(loading: t + q, lanes: lanes))
        s1 = s1.addingProduct(row, SIMD4(loading: t + width + q, lanes: lanes))
        s2 = s2.addingProduct(row, SIMD4(loading: t + 2 * width + q, lanes: lanes))
        s3 = s3.addingProduct(row, SIMD4(loading: t + 3 * width + q, lanes: lanes))
      }
      g[m] = s0.sum()
      g[width + m] = s1.sum()
      g[2 * width + m] = s2.sum()
      g[3 * width + m] = s3.sum()
    }
    for q in stride(from: 0, to: axes, by: 4) {
      let lanes = min(4, axes - q)
      var u0 = SIMD4<Double>(), u1 = u0, u2 = u0, u3 = u0
      for p in 0..<width {
        let row = SIMD4(loading: a + p * axes + q, lanes: lanes)
        u0 = u0.addingProduct(row, SIMD4(repeating: t[p]))
        u1 = u1.addingProduct(row, SIMD4(repeating: t[width + p]))
        u2 = u2.addingProduct(row, SIMD4(repeating: t[2 * width + p]))
        u3 = u3.addingProduct(row, SIMD4(repeating: t[3 * width + p]))
      }
      // Row by row, not over an array literal of the four sums (a heap allocation per call).
      (SIMD4(loading: g + q, lanes: lanes) + u0).store(to: g + q, lanes: lanes)
      (SIMD4(loading: g + width + q, lanes: lanes) + u1).store(to: g + width + q, lanes: lanes)
      (SIMD4(loading: g + 2 * width + q, lanes: lanes) + u2).store(to: g + 2 * width + q, lanes: lanes)
      (SIMD4(loading: g + 3 * width + q, lanes: lanes) + u3).store(to: g + 3 * width + q, lanes: lanes)
    }
  }
}
