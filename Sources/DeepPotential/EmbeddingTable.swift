/// An embedding network tabulated by `dp compress` (spec §8): piecewise quintic polynomials in the
/// normalised radial input, on a fine grid [lower, upper) and a coarse grid [upper, max), with
/// C¹ linear extrapolation outside (DeePMD-kit's current rule).
struct EmbeddingTable: Sendable {
  let lower, upper, maximum, fineStep, coarseStep: Double
  let intervalCount: Int
  let width: Int
  /// Polynomial coefficients as [interval][power 0…5][output]: the file's [interval][output][power]
  /// transposed, so that evaluating all outputs of an interval reads six contiguous rows.
  let coefficients: [Double]

  static func loadAll(_ variables: DocumentNode, count: Int, width: Int) throws -> [EmbeddingTable?] {
    let data = try variables["compress_data"].list()
    let info = try variables["compress_info"].list()
    guard data.count == count, info.count == count else {
      throw DeepPotentialError("\(variables.file.path): \(variables.keyPath): expected \(count) compression tables")
    }
    return try zip(data, info).map { dataNode, infoNode in
      guard let table = try dataNode.array(), let limits = try infoNode.array(), !table.values.isEmpty else { return nil }
      let l = limits.values
      guard l.count == 6, table.shape.count == 2, table.shape[1] == 6 * width, l[3] > 0, l[4] > 0,
            l[0] < l[1], l[1] <= l[2] else {
        throw DeepPotentialError("\(variables.file.path): \(dataNode.keyPath): malformed compression table (shape \(table.shape), info \(l))")
      }
      let intervals = table.shape[0]
      let fine = Int(((l[1] - l[0]) / l[3]).rounded(.towardZero))
      guard fine <= intervals else {
        throw DeepPotentialError("\(variables.file.path): \(dataNode.keyPath): \(intervals) intervals cannot cover [\(l[0]), \(l[1])) in steps of \(l[3])")
      }
      var coefficients = [Double](repeating: 0, count: table.values.count)
      for interval in 0..<intervals {
        for m in 0..<width {
          for q in 0..<6 { coefficients[(interval * 6 + q) * width + m] = table.values[(interval * width + m) * 6 + q] }
        }
      }
      return EmbeddingTable(lower: l[0], upper: l[1], maximum: l[2], fineStep: l[3], coarseStep: l[4],
                            intervalCount: intervals, width: width, coefficients: coefficients)
    }
  }

  /// The interval, the offset inside it, and the distance beyond the tabulated range.
  @inline(__always)
  func locate(_ x: Double) -> (interval: Int, offset: Double, beyond: Double) {
    let first = Int(((upper - lower) / fineStep).rounded(.towardZero))
    if x < lower { return (0, 0, x - lower) }
    if x < upper {
      let l = Int(((x - lower) / fineStep).rounded(.towardZero))
      return (l, x - (Double(l) * fineStep + lower), 0)
    }
    if x < maximum {
      let l = min(first + Int(((x - upper) / coarseStep).rounded(.towardZero)), intervalCount - 1)
      return (l, x - (Double(l - first) * coarseStep + upper), 0)
    }
    let l = intervalCount - 1
    return (l, maximum - (Double(l - first) * coarseStep + upper), x - maximum)
  }

  /// G(x) and dG/dx for every output, four outputs at a time.
  @inline(__always)
  func evaluate(_ x: Double, values: UnsafeMutablePointer<Double>, slopes: UnsafeMutablePointer<Double>) {
    let (l, dx, beyond) = locate(x)
    coefficients.withUnsafeBufferPointer { c in
      let row = c.baseAddress! + l * 6 * width
      var m = 0
      while m < width {
        let lanes = min(4, width - m)
        func load(_ power: Int) -> SIMD4<Double> { SIMD4(loading: row + power * width + m, lanes: lanes) }
        let a0 = load(0), a1 = load(1), a2 = load(2), a3 = load(3), a4 = load(4), a5 = load(5)
        let dx = SIMD4<Double>(repeating: dx)
        // The same operations, in the same order, as one output at a time.
        var value: SIMD4<Double> = a4 + a5 * dx
        value = a3 + value * dx
        value = a2 + value * dx
        value = a1 + value * dx
        value = a0 + value * dx
        var slope: SIMD4<Double> = 4 * a4 + 5 * a5 * dx
        slope = 3 * a3 + slope * dx
        slope = 2 * a2 + slope * dx
        slope = a1 + slope * dx
        let extrapolated = value + slope * SIMD4(repeating: beyond)
        extrapolated.store(to: values + m, lanes: lanes)
        slope.store(to: slopes + m, lanes: lanes)
        m += 4
      }
    }
  }
}
