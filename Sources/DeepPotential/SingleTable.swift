/// A compressed table in Float for `precision float32` (DeePMD-kit's `tabulate_fusion_se_a` in
/// float): the coefficients rounded once, the quintic and the contraction over neighbours in
/// Float eight outputs at a time (one AVX2 register), each atom's sums widened into the Double
/// contraction T and gradient. Neighbours are located in Double (`EmbeddingTable.locate`), so the
/// interval chosen is the float64 path's. Outputs are padded with zero coefficients to a multiple
/// of eight (M1 = 100 → 104), which costs less than a four-wide tail.
struct SingleTable: Sendable {
  let table: EmbeddingTable
  let width: Int
  /// The width rounded up to a multiple of eight: the stride of the coefficient rows and of B.
  let paddedWidth: Int
  /// As `EmbeddingTable.coefficients` with rows of `paddedWidth`: [interval][power 0…5][output].
  let coefficients: [Float]

  init(_ table: EmbeddingTable) {
    self.table = table
    width = table.width
    paddedWidth = (table.width + 7) / 8 * 8
    var padded = [Float](repeating: 0, count: table.intervalCount * 6 * paddedWidth)
    for row in 0..<(table.intervalCount * 6) {
      for m in 0..<width { padded[row * paddedWidth + m] = Float(table.coefficients[row * width + m]) }
    }
    coefficients = padded
  }

  /// Locates the neighbours' inputs in Double, with this table's interval stride.
  /// Then rounds each neighbour's offset, beyond and R̂ to Float (`LocatedInputs.single`).
  func locate(rows: UnsafePointer<Double>, count: Int, into located: LocatedInputs) {
    table.locate(rows: rows, count: count, into: located, intervalStride: 6 * paddedWidth)
    for k in 0..<count {
      let single = located.single + 6 * k
      single[0] = Float(located.offset[k])
      single[1] = Float(located.beyond[k])
      for c in 0..<4 { single[2 + c] = Float(rows[4 * k + c]) }
    }
  }

  /// T[c][m] += Σ_k R̂_k[c] G_m(s_k), as `EmbeddingTable.contract`, with R̂ as `locate` rounded it.
  func contract(count: Int, located: LocatedInputs, into t: UnsafeMutablePointer<Double>) {
    coefficients.withUnsafeBufferPointer { c in
      let base = c.baseAddress!
      for m in stride(from: 0, to: width, by: 8) {
        var t0 = SIMD8<Float>(), t1 = t0, t2 = t0, t3 = t0
        for k in 0..<count {
          let p = base + located.coefficientOffset[k] + m, single = located.single + 6 * k
          var (value, slope) = valueAndSlope(p, SIMD8(repeating: single[0]))
          if single[1] != 0 { value = value.addingProduct(slope, SIMD8(repeating: single[1])) }
          t0 = t0.addingProduct(SIMD8(repeating: single[2]), value)
          t1 = t1.addingProduct(SIMD8(repeating: single[3]), value)
          t2 = t2.addingProduct(SIMD8(repeating: single[4]), value)
          t3 = t3.addingProduct(SIMD8(repeating: single[5]), value)
        }
        let lanes = min(8, width - m)
        for (row, sum) in [t0, t1, t2, t3].enumerated() {
          let target = t + row * width + m
          for lane in 0..<lanes { target[lane] += Double(sum[lane]) }
        }
      }
    }
  }

  /// G·B_c for each c and G'·(Σ_c R̂[c] B_c) of located neighbour k, as `EmbeddingTable.project`,
  /// with B in Float, 4 rows of `paddedWidth` (zeros past the width). The second part is summed
  /// as Σ_c R̂[c] (G'·B_c), so the loop holds no per-neighbour broadcasts (and the compiler keeps
  /// it in eight-lane multiply-adds).
  @inline(__always)
  func project(_ k: Int, row: UnsafePointer<Double>, located: LocatedInputs, b: UnsafePointer<Float>,
               base: UnsafePointer<Float>) -> (values: SIMD4<Double>, radial: Double) {
    let dx = SIMD8(repeating: located.single[6 * k]), beyond = SIMD8(repeating: located.single[6 * k + 1])
    let coefficients = base + located.coefficientOffset[k]
    var g0 = SIMD8<Float>(), g1 = g0, g2 = g0, g3 = g0, h0 = g0, h1 = g0, h2 = g0, h3 = g0
    for m in stride(from: 0, to: width, by: 8) {
      var (value, slope) = valueAndSlope(coefficients + m, dx)
      value = value.addingProduct(slope, beyond)
      let b0 = load(b + m), b1 = load(b + paddedWidth + m), b2 = load(b + 2 * paddedWidth + m)
      let b3 = load(b + 3 * paddedWidth + m)
      g0 = g0.addingProduct(value, b0)
      g1 = g1.addingProduct(value, b1)
      g2 = g2.addingProduct(value, b2)
      g3 = g3.addingProduct(value, b3)
      h0 = h0.addingProduct(slope, b0)
      h1 = h1.addingProduct(slope, b1)
      h2 = h2.addingProduct(slope, b2)
      h3 = h3.addingProduct(slope, b3)
    }
    let slopeProjection = SIMD4(Double(h0.sum()), Double(h1.sum()), Double(h2.sum()), Double(h3.sum()))
    return (SIMD4(Double(g0.sum()), Double(g1.sum()), Double(g2.sum()), Double(g3.sum())),
            (SIMD4(row[0], row[1], row[2], row[3]) * slopeProjection).sum())
  }

  /// The quintic and its derivative at dx for eight outputs, by Horner's rule carried for both.
  @inline(__always)
  private func valueAndSlope(_ p: UnsafePointer<Float>, _ dx: SIMD8<Float>) -> (value: SIMD8<Float>, slope: SIMD8<Float>) {
    let w = paddedWidth
    var value = load(p + 5 * w), slope = value
    value = load(p + 4 * w).addingProduct(value, dx)
    slope = value.addingProduct(slope, dx)
    value = load(p + 3 * w).addingProduct(value, dx)
    slope = value.addingProduct(slope, dx)
    value = load(p + 2 * w).addingProduct(value, dx)
    slope = value.addingProduct(slope, dx)
    value = load(p + w).addingProduct(value, dx)
    slope = value.addingProduct(slope, dx)
    value = load(p).addingProduct(value, dx)
    return (value, slope)
  }
}

@inline(__always)
private func load(_ p: UnsafePointer<Float>) -> SIMD8<Float> {
  UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Float>.self)
}
