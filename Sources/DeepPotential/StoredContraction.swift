/// The two products of an uncompressed model's stored embeddings with four-row matrices: the
/// contraction T += R̂ᵀG and, in the backward pass, [G; G']·Bᵀ. Four output rows are too few for
/// BLAS, which packs both operands first (a copy as costly as the product here); these read each
/// embedding value once, four outputs at a time.

/// T[c][m] += Σ_k R̂_k[c] G_k[m] over `count` neighbours: `rows` holds R̂ (4 per neighbour),
/// `embeddings` their G rows of `width`, T is 4 × width.
func accumulateContraction(rows: UnsafePointer<Double>, embeddings: UnsafePointer<Double>, count: Int, width: Int,
                           into t: UnsafeMutablePointer<Double>) {
  for m in stride(from: 0, to: width, by: 4) {
    let lanes = min(4, width - m)
    var t0 = SIMD4(loading: t + m, lanes: lanes), t1 = SIMD4(loading: t + width + m, lanes: lanes)
    var t2 = SIMD4(loading: t + 2 * width + m, lanes: lanes), t3 = SIMD4(loading: t + 3 * width + m, lanes: lanes)
    for k in 0..<count {
      let g = SIMD4(loading: embeddings + k * width + m, lanes: lanes), r = rows + 4 * k
      t0 = t0.addingProduct(SIMD4(repeating: r[0]), g)
      t1 = t1.addingProduct(SIMD4(repeating: r[1]), g)
      t2 = t2.addingProduct(SIMD4(repeating: r[2]), g)
      t3 = t3.addingProduct(SIMD4(repeating: r[3]), g)
    }
    t0.store(to: t + m, lanes: lanes)
    t1.store(to: t + width + m, lanes: lanes)
    t2.store(to: t + 2 * width + m, lanes: lanes)
    t3.store(to: t + 3 * width + m, lanes: lanes)
  }
}

/// out[r][c] = Σ_m E[r][m] B[c][m] for `count` rows of E and the four rows of B (both `width` wide):
/// two rows of E at a time, so each load of B serves both.
func projectOntoFourRows(_ e: UnsafePointer<Double>, count: Int, width: Int, b: UnsafePointer<Double>,
                         into out: UnsafeMutablePointer<Double>) {
  var r = 0
  while r < count {
    let pair = r + 1 < count
    let first = e + r * width, second = pair ? first + width : first
    var a0 = SIMD4<Double>(), a1 = a0, a2 = a0, a3 = a0, c0 = a0, c1 = a0, c2 = a0, c3 = a0
    for m in stride(from: 0, to: width, by: 4) {
      let lanes = min(4, width - m)
      let x = SIMD4(loading: first + m, lanes: lanes), y = SIMD4(loading: second + m, lanes: lanes)
      let b0 = SIMD4(loading: b + m, lanes: lanes), b1 = SIMD4(loading: b + width + m, lanes: lanes)
      let b2 = SIMD4(loading: b + 2 * width + m, lanes: lanes), b3 = SIMD4(loading: b + 3 * width + m, lanes: lanes)
      a0 = a0.addingProduct(x, b0)
      a1 = a1.addingProduct(x, b1)
      a2 = a2.addingProduct(x, b2)
      a3 = a3.addingProduct(x, b3)
      c0 = c0.addingProduct(y, b0)
      c1 = c1.addingProduct(y, b1)
      c2 = c2.addingProduct(y, b2)
      c3 = c3.addingProduct(y, b3)
    }
    SIMD4(a0.sum(), a1.sum(), a2.sum(), a3.sum()).store(to: out + 4 * r, lanes: 4)
    if pair { SIMD4(c0.sum(), c1.sum(), c2.sum(), c3.sum()).store(to: out + 4 * (r + 1), lanes: 4) }
    r += 2
  }
}
