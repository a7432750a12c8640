/// Where each neighbour's input falls in a table: the offset of its interval's coefficients, the
/// distance into the interval and the distance beyond the tabulated range (linear extrapolation).
/// Filled per section by `EmbeddingTable.locate(rows:count:into:)`; storage for the most slots.
final class LocatedInputs {
  let coefficientOffset: UnsafeMutablePointer<Int>
  let offset: UnsafeMutablePointer<Double>
  let beyond: UnsafeMutablePointer<Double>
  /// For a Float table (`SingleTable.locate`): per neighbour, its offset, beyond and R̂ (4) rounded
  /// to Float once, not in every eight-output step.
  let single: UnsafeMutablePointer<Float>

  init(capacity: Int) {
    coefficientOffset = .allocate(capacity: max(capacity, 1))
    offset = .allocate(capacity: max(capacity, 1))
    beyond = .allocate(capacity: max(capacity, 1))
    single = .allocate(capacity: 6 * max(capacity, 1))
  }

  deinit {
    coefficientOffset.deallocate()
    offset.deallocate()
    beyond.deallocate()
    single.deallocate()
  }
}

/// The compressed model's embedding fused with the contraction (what DeePMD-kit's
/// `tabulate_fusion_se_a` and its gradient do): G and dG/ds of a neighbour are made from the table
/// four outputs at a time and used at once, never stored; the backward pass makes them again,
/// which costs less than writing and reading 2·M1 values per neighbour.
extension EmbeddingTable {
  /// Locates the inputs s = R̂[0] of `count` neighbours whose rows (4 values each) start at `rows`;
  /// an interval's coefficients are `intervalStride` values apart (6·width here; more in a padded
  /// copy such as `SingleTable`'s).
  @inline(__always)
  func locate(rows: UnsafePointer<Double>, count: Int, into located: LocatedInputs, intervalStride: Int? = nil) {
    let stride = intervalStride ?? 6 * width
    for k in 0..<count {
      let (interval, offset, beyond) = locate(rows[4 * k])
      located.coefficientOffset[k] = interval * stride
      located.offset[k] = offset
      located.beyond[k] = beyond
    }
  }

  /// T[c][m] += Σ_k R̂_k[c] G_m(s_k): four outputs at a time over all located neighbours, the four
  /// rows of T kept in registers. The width is a multiple of four (`fusesTables` checks).
  func contract(rows: UnsafePointer<Double>, count: Int, located: LocatedInputs, into t: UnsafeMutablePointer<Double>) {
    coefficients.withUnsafeBufferPointer { c in
      let base = c.baseAddress!
      for m in stride(from: 0, to: width, by: 4) {
        var t0 = load(t + m), t1 = load(t + width + m), t2 = load(t + 2 * width + m), t3 = load(t + 3 * width + m)
        for k in 0..<count {
          let p = base + located.coefficientOffset[k] + m
          let dx = SIMD4(repeating: located.offset[k])
          var value = load(p + 4 * width).addingProduct(load(p + 5 * width), dx)
          value = load(p + 3 * width).addingProduct(value, dx)
          value = load(p + 2 * width).addingProduct(value, dx)
          value = load(p + width).addingProduct(value, dx)
          value = load(p).addingProduct(value, dx)
          if located.beyond[k] != 0 {
            value = value.addingProduct(valueAndSlope(p, dx).slope, SIMD4(repeating: located.beyond[k]))
          }
          let r = rows + 4 * k
          t0 = t0.addingProduct(SIMD4(repeating: r[0]), value)
          t1 = t1.addingProduct(SIMD4(repeating: r[1]), value)
          t2 = t2.addingProduct(SIMD4(repeating: r[2]), value)
          t3 = t3.addingProduct(SIMD4(repeating: r[3]), value)
        }
        store(t0, t + m)
        store(t1, t + width + m)
        store(t2, t + 2 * width + m)
        store(t3, t + 3 * width + m)
      }
    }
  }

  /// For neighbour k (located, row R̂ at `row`) and B (4 × M1): G·B_c for each c, and
  /// G'·(Σ_c R̂[c] B_c), the two parts of ∂E/∂R̂ before scaling.
  @inline(__always)
  func project(_ k: Int, row: UnsafePointer<Double>, located: LocatedInputs, b: UnsafePointer<Double>,
               base: UnsafePointer<Double>) -> (values: SIMD4<Double>, radial: Double) {
    let r0 = SIMD4(repeating: row[0]), r1 = SIMD4(repeating: row[1])
    let r2 = SIMD4(repeating: row[2]), r3 = SIMD4(repeating: row[3])
    let dx = SIMD4(repeating: located.offset[k]), beyond = SIMD4(repeating: located.beyond[k])
    let coefficients = base + located.coefficientOffset[k]
    var g0 = SIMD4<Double>(), g1 = g0, g2 = g0, g3 = g0, radial = g0
    for m in stride(from: 0, to: width, by: 4) {
      var (value, slope) = valueAndSlope(coefficients + m, dx)
      value = value.addingProduct(slope, beyond)
      let b0 = load(b + m), b1 = load(b + width + m), b2 = load(b + 2 * width + m), b3 = load(b + 3 * width + m)
      g0 = g0.addingProduct(value, b0)
      g1 = g1.addingProduct(value, b1)
      g2 = g2.addingProduct(value, b2)
      g3 = g3.addingProduct(value, b3)
      let rb = (r0 * b0).addingProduct(r1, b1).addingProduct(r2, b2).addingProduct(r3, b3)
      radial = radial.addingProduct(slope, rb)
    }
    return (SIMD4(g0.sum(), g1.sum(), g2.sum(), g3.sum()), radial.sum())
  }

  /// The quintic and its derivative at dx for four outputs (`p`: the interval's coefficients at
  /// output m), by Horner's rule carried for both.
  @inline(__always)
  private func valueAndSlope(_ p: UnsafePointer<Double>, _ dx: SIMD4<Double>) -> (value: SIMD4<Double>, slope: SIMD4<Double>) {
    var value = load(p + 5 * width), slope = value
    value = load(p + 4 * width).addingProduct(value, dx)
    slope = value.addingProduct(slope, dx)
    value = load(p + 3 * width).addingProduct(value, dx)
    slope = value.addingProduct(slope, dx)
    value = load(p + 2 * width).addingProduct(value, dx)
    slope = value.addingProduct(slope, dx)
    value = load(p + width).addingProduct(value, dx)
    slope = value.addingProduct(slope, dx)
    value = load(p).addingProduct(value, dx)
    return (value, slope)
  }
}

@inline(__always)
private func load(_ p: UnsafePointer<Double>) -> SIMD4<Double> {
  UnsafeRawPointer(p).loadUnaligned(as: SIMD4<Double>.self)
}

@inline(__always)
private func store(_ v: SIMD4<Double>, _ p: UnsafeMutablePointer<Double>) {
  UnsafeMutableRawPointer(p).storeBytes(of: v, as: SIMD4<Double>.self)
}
