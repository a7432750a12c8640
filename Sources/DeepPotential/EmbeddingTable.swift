/// An embedding network tabulated by `dp compress` (spec §8): piecewise quintic polynomials in the
/// normalised radial input, on a fine grid [lower, upper) and a coarse grid [upper, max), with
/// C¹ linear extrapolation outside (DeePMD-kit's current rule).
struct EmbeddingTable: Sendable {
  let lower, upper, maximum, fineStep, coarseStep: Double
  let intervalCount: Int
  let width: Int
  /// [interval][output][6] polynomial coefficients a0…a5.
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
      return EmbeddingTable(lower: l[0], upper: l[1], maximum: l[2], fineStep: l[3], coarseStep: l[4],
                            intervalCount: intervals, width: width, coefficients: table.values)
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

  /// G(x) and dG/dx for every output.
  @inline(__always)
  func evaluate(_ x: Double, values: UnsafeMutablePointer<Double>, slopes: UnsafeMutablePointer<Double>) {
    let (l, dx, beyond) = locate(x)
    coefficients.withUnsafeBufferPointer { c in
      let row = c.baseAddress! + l * 6 * width
      for m in 0..<width {
        let a = row + 6 * m
        let value = a[0] + (a[1] + (a[2] + (a[3] + (a[4] + a[5] * dx) * dx) * dx) * dx) * dx
        let slope = a[1] + (2 * a[2] + (3 * a[3] + (4 * a[4] + 5 * a[5] * dx) * dx) * dx) * dx
        values[m] = value + slope * beyond
        slopes[m] = slope
      }
    }
  }
}
