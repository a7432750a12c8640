/// A compressed model's embedding table fused with the contraction (what DeePMD-kit's
/// `tabulate_fusion_se_a` and its gradient do), in the precision of `Lanes`: four Doubles, or
/// eight Floats for `precision float32` (one AVX2 register either way). G and dG/ds of a neighbour
/// are made from the table one vector of outputs at a time and used at once, never stored; the
/// backward pass makes them again, which costs less than writing and reading 2·M1 values per
/// neighbour. Neighbours are located in Double (`EmbeddingTable.locate`), so both precisions
/// choose the same interval. Float coefficients are rounded once, their rows padded with zeros to a
/// multiple of the lane count (M1 = 100 → 104 Floats: cheaper than a partial last vector).
struct FusedTable<Lanes: TableLanes>: Sendable {
  typealias Scalar = Lanes.Scalar
  let table: EmbeddingTable
  let width: Int
  /// The width rounded up to a multiple of the lane count: the stride of the coefficient rows and of B.
  let paddedWidth: Int
  /// As `EmbeddingTable.coefficients` with rows of `paddedWidth`: [interval][power 0…5][output].
  let coefficients: [Scalar]

  init(_ table: EmbeddingTable) {
    self.table = table
    width = table.width
    paddedWidth = (table.width + Lanes.scalarCount - 1) / Lanes.scalarCount * Lanes.scalarCount
    if Scalar.self == Double.self && paddedWidth == width {
      // The model's own array, shared (not copied) by every evaluator and thread.
      coefficients = unsafeBitCast(table.coefficients, to: [Scalar].self)
      return
    }
    var padded = [Scalar](repeating: 0, count: table.intervalCount * 6 * paddedWidth)
    for row in 0..<(table.intervalCount * 6) {
      for m in 0..<width { padded[row * paddedWidth + m] = Scalar(table.coefficients[row * table.width + m]) }
    }
    coefficients = padded
  }

  /// Locates the inputs s = R̂[0] of `count` neighbours whose rows (4 values each) start at `rows`,
  /// keeping each one's offset, beyond and R̂ in `Scalar` for the kernels.
  func locate(rows: UnsafePointer<Double>, count: Int, into located: LocatedInputs<Scalar>) {
    for k in 0..<count {
      let (interval, offset, beyond) = table.locate(rows[4 * k])
      located.coefficientOffset[k] = interval * 6 * paddedWidth
      let inputs = located.inputs + 6 * k
      inputs[0] = Scalar(offset)
      inputs[1] = Scalar(beyond)
      for c in 0..<4 { inputs[2 + c] = Scalar(rows[4 * k + c]) }
    }
  }

  /// T[c][m] += Σ_k R̂_k[c] G_m(s_k) over the located neighbours: one vector of outputs at a time
  /// over all of them, the four rows of T in registers, added into the Double T at the end.
  func contract(count: Int, located: LocatedInputs<Scalar>, into t: UnsafeMutablePointer<Double>) {
    coefficients.withUnsafeBufferPointer { c in
      let base = c.baseAddress!
      for m in stride(from: 0, to: width, by: Lanes.scalarCount) {
        var t0 = Lanes(), t1 = t0, t2 = t0, t3 = t0
        for k in 0..<count {
          let p = base + located.coefficientOffset[k] + m, inputs = located.inputs + 6 * k
          var (value, slope) = valueAndSlope(p, Lanes(repeating: inputs[0]))
          if inputs[1] != 0 { value = value.addingProduct(slope, Lanes(repeating: inputs[1])) }
          t0 = t0.addingProduct(Lanes(repeating: inputs[2]), value)
          t1 = t1.addingProduct(Lanes(repeating: inputs[3]), value)
          t2 = t2.addingProduct(Lanes(repeating: inputs[4]), value)
          t3 = t3.addingProduct(Lanes(repeating: inputs[5]), value)
        }
        let lanes = min(Lanes.scalarCount, width - m)
        for lane in 0..<lanes {
          t[m + lane] += Double(t0[lane])
          t[width + m + lane] += Double(t1[lane])
          t[2 * width + m + lane] += Double(t2[lane])
          t[3 * width + m + lane] += Double(t3[lane])
        }
      }
    }
  }

  /// For located neighbour k and B (4 rows of `paddedWidth`, zeros past the width): G·B_c for each
  /// c, and G'·(Σ_c R̂[c] B_c) — the two parts of ∂E/∂R̂ before scaling. The second is summed as
  /// Σ_c R̂[c] (G'·B_c), so the loop holds no per-neighbour broadcasts (which the compiler turned
  /// into scalar code for eight Floats).
  @inline(__always)
  func project(_ k: Int, located: LocatedInputs<Scalar>, b: UnsafePointer<Scalar>,
               base: UnsafePointer<Scalar>) -> (values: SIMD4<Double>, radial: Double) {
    let inputs = located.inputs + 6 * k
    let dx = Lanes(repeating: inputs[0]), beyond = Lanes(repeating: inputs[1])
    let coefficients = base + located.coefficientOffset[k]
    var g0 = Lanes(), g1 = g0, g2 = g0, g3 = g0, h0 = g0, h1 = g0, h2 = g0, h3 = g0
    for m in stride(from: 0, to: width, by: Lanes.scalarCount) {
      var (value, slope) = valueAndSlope(coefficients + m, dx)
      value = value.addingProduct(slope, beyond)
      let b0 = Lanes.load(b + m), b1 = Lanes.load(b + paddedWidth + m)
      let b2 = Lanes.load(b + 2 * paddedWidth + m), b3 = Lanes.load(b + 3 * paddedWidth + m)
      g0 = g0.addingProduct(value, b0)
      g1 = g1.addingProduct(value, b1)
      g2 = g2.addingProduct(value, b2)
      g3 = g3.addingProduct(value, b3)
      h0 = h0.addingProduct(slope, b0)
      h1 = h1.addingProduct(slope, b1)
      h2 = h2.addingProduct(slope, b2)
      h3 = h3.addingProduct(slope, b3)
    }
    let row = SIMD4(Double(inputs[2]), Double(inputs[3]), Double(inputs[4]), Double(inputs[5]))
    let slopeProjection = SIMD4(Double(h0.sum()), Double(h1.sum()), Double(h2.sum()), Double(h3.sum()))
    return (SIMD4(Double(g0.sum()), Double(g1.sum()), Double(g2.sum()), Double(g3.sum())),
            (row * slopeProjection).sum())
  }

  /// The quintic and its derivative at dx for one vector of outputs (`p`: the interval's
  /// coefficients at output m), by Horner's rule carried for both.
  @inline(__always)
  private func valueAndSlope(_ p: UnsafePointer<Scalar>, _ dx: Lanes) -> (value: Lanes, slope: Lanes) {
    let w = paddedWidth
    var value = Lanes.load(p + 5 * w), slope = value
    value = Lanes.load(p + 4 * w).addingProduct(value, dx)
    slope = value.addingProduct(slope, dx)
    value = Lanes.load(p + 3 * w).addingProduct(value, dx)
    slope = value.addingProduct(slope, dx)
    value = Lanes.load(p + 2 * w).addingProduct(value, dx)
    slope = value.addingProduct(slope, dx)
    value = Lanes.load(p + w).addingProduct(value, dx)
    slope = value.addingProduct(slope, dx)
    value = Lanes.load(p).addingProduct(value, dx)
    return (value, slope)
  }
}

/// The vectors a `FusedTable` computes in.
protocol TableLanes: SIMD, Sendable where Scalar: BinaryFloatingPoint & Sendable {}

extension SIMD4: TableLanes where Scalar == Double {}
extension SIMD8: TableLanes where Scalar == Float {}

extension TableLanes {
  @inline(__always)
  static func load(_ p: UnsafePointer<Scalar>) -> Self { UnsafeRawPointer(p).loadUnaligned(as: Self.self) }
}

/// Where each neighbour's input falls in a table: the offset of its interval's coefficients and,
/// in the kernels' precision, [offset into the interval, distance beyond the tabulated range
/// (linear extrapolation), R̂ (4)]. Filled per section by `FusedTable.locate`; storage for the
/// most slots.
final class LocatedInputs<Scalar> {
  let coefficientOffset: UnsafeMutablePointer<Int>
  let inputs: UnsafeMutablePointer<Scalar>

  init(capacity: Int) {
    coefficientOffset = .allocate(capacity: max(capacity, 1))
    inputs = .allocate(capacity: 6 * max(capacity, 1))
  }

  deinit {
    coefficientOffset.deallocate()
    inputs.deallocate()
  }
}

/// A model's fused tables in one precision (one per embedding index, nil where a type pair has
/// none), with the buffers their kernels use for one section of one atom.
final class FusedTableSet<Lanes: TableLanes> {
  let tables: [FusedTable<Lanes>?]
  let located: LocatedInputs<Lanes.Scalar>
  /// An atom's ∂E/∂T (4 × M1) in the tables' precision, rows padded as the coefficients are.
  let projection: UnsafeMutablePointer<Lanes.Scalar>
  let width: Int

  init(_ tables: [EmbeddingTable?], slots: Int, width: Int) {
    self.tables = tables.map { $0.map(FusedTable.init) }
    self.width = width
    located = LocatedInputs(capacity: slots)
    let padded = self.tables.compactMap { $0?.paddedWidth }.max() ?? width
    projection = zeroedBuffer(4 * padded)
  }

  deinit { projection.deallocate() }

  /// T += R̂ᵀG over `count` neighbours (rows R̂ at `rows`) with table `index`.
  func contract(_ index: Int, rows: UnsafePointer<Double>, count: Int, into t: UnsafeMutablePointer<Double>) {
    guard let table = tables[index] else { return }
    table.locate(rows: rows, count: count, into: located)
    table.contract(count: count, located: located, into: t)
  }

  /// Per neighbour a of `count`: G·B_c into valueParts[4a…] and R̂·(G'·Bᵀ) into slopeParts[4a]
  /// (zeros where the pair has no table), for B = ∂E/∂T (4 × width, Double).
  func project(_ index: Int, rows: UnsafePointer<Double>, count: Int, gradient: UnsafePointer<Double>,
               valueParts: UnsafeMutablePointer<Double>, slopeParts: UnsafeMutablePointer<Double>) {
    guard let table = tables[index] else {
      valueParts.update(repeating: 0, count: 4 * count)
      slopeParts.update(repeating: 0, count: 4 * count)
      return
    }
    table.locate(rows: rows, count: count, into: located)
    let padded = table.paddedWidth
    for c in 0..<4 {
      for m in 0..<padded { projection[c * padded + m] = m < width ? Lanes.Scalar(gradient[c * width + m]) : 0 }
    }
    table.coefficients.withUnsafeBufferPointer { c in
      for a in 0..<count {
        let (values, radial) = table.project(a, located: located, b: projection, base: c.baseAddress!)
        values.store(to: valueParts + 4 * a, lanes: 4)
        SIMD4(radial, 0, 0, 0).store(to: slopeParts + 4 * a, lanes: 4)
      }
    }
  }
}

/// The fused tables of an evaluator, in the precision its networks run in.
enum FusedTables {
  case float64(FusedTableSet<SIMD4<Double>>)
  case float32(FusedTableSet<SIMD8<Float>>)

  init(_ tables: [EmbeddingTable?], precision: NetworkPrecision, slots: Int, width: Int) {
    switch precision {
    case .float64: self = .float64(FusedTableSet(tables, slots: slots, width: width))
    case .float32: self = .float32(FusedTableSet(tables, slots: slots, width: width))
    }
  }

  func contract(_ index: Int, rows: UnsafePointer<Double>, count: Int, into t: UnsafeMutablePointer<Double>) {
    switch self {
    case .float64(let set): set.contract(index, rows: rows, count: count, into: t)
    case .float32(let set): set.contract(index, rows: rows, count: count, into: t)
    }
  }

  func project(_ index: Int, rows: UnsafePointer<Double>, count: Int, gradient: UnsafePointer<Double>,
               valueParts: UnsafeMutablePointer<Double>, slopeParts: UnsafeMutablePointer<Double>) {
    switch self {
    case .float64(let set):
      set.project(index, rows: rows, count: count, gradient: gradient, valueParts: valueParts, slopeParts: slopeParts)
    case .float32(let set):
      set.project(index, rows: rows, count: count, gradient: gradient, valueParts: valueParts, slopeParts: slopeParts)
    }
  }
}
