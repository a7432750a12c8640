extension DeepPotentialEvaluator {
  /// Chain rule from ∂E_i/∂D back to every active neighbour's displacement (spec §7.2), adding
  /// forces, the virial and the neighbours' atomic virials.
  func differentiate(atom i: Int, at b: Int, types: UnsafePointer<Int32>, forces f: UnsafeMutablePointer<Double>,
                     virial: inout [Double], atomVirials: UnsafeMutablePointer<Double>?) {
    let ti = Int(types[i])
    let first = b * slotCount, count = block.activeCount[b]
    if count == 0 { return }
    // B[c][m] = Σ_a A[m][a] T[c][a] + [m < M2] Σ_p A[p][m] T[c][p]  with A = ∂E/∂D (M1 × M2).
    let t = block.contraction + b * 4 * width, a = block.descriptorGradient + b * width * axes
    for c in 0..<4 {
      for m in 0..<width {
        var sum = 0.0
        for q in 0..<axes { sum += a[m * axes + q] * t[c * width + q] }
        if m < axes {
          for p in 0..<width { sum += a[p * axes + m] * t[c * width + p] }
        }
        contractionGradient[c * width + m] = sum
      }
    }
    // ∂E/∂R̂_k = (G_k·Bᵀ + δ_c0 (R̂_k·B)·G'_k) / nnei, where (R̂_k·B)·G'_k = R̂_k·(G'_k·Bᵀ):
    // per section, one product [G; G']·Bᵀ gives both, laid out as the embeddings are.
    let bounds = block.sectionBounds + b * (model.typeCount + 1)
    for s in 0..<model.typeCount where bounds[s + 1] > bounds[s] {
      multiply(block.embedding + 2 * (first + bounds[s]) * width, contractionGradient,
               into: rowGradient + 8 * bounds[s], m: 2 * (bounds[s + 1] - bounds[s]), n: 4, k: width,
               transposeB: true)
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
        for c in 0..<4 { radial += row[c] * slopePart[c] }
        var dR = SIMD4<Double>()
        for c in 0..<4 {
          let gradient = valuePart[c] + (c == 0 ? radial : 0)
          dR[c] = scale * gradient / deviation[statistics + c]
        }
        let d = block.displacement + 3 * (first + at)
        let r = SIMD3(d[0], d[1], d[2])
        let length = (r * r).sum().squareRoot()
        let rho = length + model.protection
        let (w, dw) = switching(length)
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
}
