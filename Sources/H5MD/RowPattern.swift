/// Rows of a frame a rank writes, as HDF5's strided hyperslab: `repeats` runs of `length` consecutive
/// rows, `stride` rows apart, from `start`. The atoms of a lattice brick have ids in equal runs at equal
/// spacing, so a rank's rows are a handful of patterns, not one selection per run (HDF5 combines
/// irregular selections in time that grows with their number).
struct RowPattern: Equatable {
  var start: Int
  var length: Int
  var stride: Int
  var repeats: Int

  /// Patterns covering `rows`, which must be sorted and distinct.
  static func covering<Rows: Sequence<Int>>(_ rows: Rows) -> [RowPattern] {
    var runs: [(start: Int, length: Int)] = []
    for r in rows {
      if let last = runs.last, last.start + last.length == r {
        runs[runs.count - 1].length += 1
      } else {
        runs.append((r, 1))
      }
    }
    var patterns: [RowPattern] = []
    for run in runs {
      if var last = patterns.last, last.length == run.length,
         last.repeats == 1 || run.start == last.start + last.repeats * last.stride {
        if last.repeats == 1 { last.stride = run.start - last.start }
        last.repeats += 1
        patterns[patterns.count - 1] = last
      } else {
        patterns.append(RowPattern(start: run.start, length: run.length, stride: run.length, repeats: 1))
      }
    }
    return patterns
  }
}
