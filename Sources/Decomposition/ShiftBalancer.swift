import Communication
import Foundation

/// LAMMPS's `balance … shift` (and `fix balance … shift`): the cuts of the processor grid are moved,
/// one dimension after the other, until each slab of bricks along that dimension holds an equal share
/// of the atoms.
///
/// Each iteration counts the atoms below every cut (a global reduction), keeps for every inner cut the
/// closest positions known to hold too few (`lo`) and too many (`hi`) atoms, and moves the cut between
/// them: halfway (bisection; the `balance` command) or by linear interpolation of the counts (`fix
/// balance`, which starts from cuts already near their targets). A dimension stops when no cut moves
/// or every cut's count is within stopthresh^(1/ndims) − 1 of its target, or after `maxIterations`;
/// the whole balance stops early once the 3-d imbalance of the bricks is below `stopThreshold`. Cuts
/// that end up equal are spread between their neighbours, and bricks thinner than the skin widened,
/// as LAMMPS does so that an atom never crosses a whole brick between two rebuilds.
public struct ShiftBalancer: Sendable {
  /// Dimensions in the order given (`xz` → [0, 2]).
  public var dimensions: [Int]
  public var maxIterations: Int
  public var stopThreshold: Double
  /// Interpolate (`fix balance`) rather than bisect (`balance`) between the bounds of a cut.
  public var interpolates: Bool

  public init(dimensions: [Int], maxIterations: Int, stopThreshold: Double, interpolates: Bool) {
    self.dimensions = dimensions
    self.maxIterations = maxIterations
    self.stopThreshold = stopThreshold
    self.interpolates = interpolates
  }

  /// Moves the cuts of `grid`. `fractions`: this rank's atoms in fractional coordinates (inside the
  /// box); no brick is left narrower than `skin` along a box `lengths`. Returns the number of
  /// iterations, or throws if the cuts came out out of order.
  public func balance(_ grid: inout ProcessorGrid, fractions: [SIMD3<Double>], skin: Double,
                      lengths: SIMD3<Double>, comm: Communicator) throws -> Int {
    let total = comm.allReduce(Double(fractions.count), .sum)
    guard total > 0 else { return 0 }
    // A 1-d tolerance whose product over the dimensions reaches the 3-d threshold.
    let tolerance = pow(stopThreshold, 1.0 / Double(dimensions.count)) - 1
    var iterations = 0
    for d in dimensions {
      let n = grid.counts[d]
      var split = grid.cuts[d]
      var sum = tally(fractions, d, split, comm)
      let target = (0...n).map { $0 == n ? total : total / Double(n) * Double($0) }
      // lo/hi: the nearest cuts at or below/above each cut whose counts bound its target.
      var lo = [Double](repeating: 0, count: n + 1), hi = lo, loSum = lo, hiSum = lo
      lo[n] = 1; hi[n] = 1; loSum[n] = total; hiSum[n] = total
      for i in 1..<max(n, 1) {
        for j in stride(from: i, through: 0, by: -1) where sum[j] <= target[i] {
          lo[i] = split[j]; loSum[i] = sum[j]
          break
        }
        for j in i...n where sum[j] >= target[i] {
          hi[i] = split[j]; hiSum[i] = sum[j]
          break
        }
      }
      for _ in 0..<maxIterations {
        let moved = adjust(&split, sum: sum, target: target, lo: &lo, hi: &hi, loSum: &loSum, hiSum: &hiSum)
        sum = tally(fractions, d, split, comm)
        iterations += 1
        if !moved { break }
        if (1..<n).allSatisfy({ abs(sum[$0] - target[$0]) / target[$0] <= tolerance }) { break }
      }
      spreadDuplicates(&split)
      widenThinBricks(&split, narrowest: (1 + 1e-3) * skin / lengths[d])
      for i in 0..<n where !(split[i] < split[i + 1]) {
        throw BalanceError("balance produced bad cuts along \(["x", "y", "z"][d]): \(split)")
      }
      grid.setCuts(split, along: d)
      if Self.imbalance(loads: Self.brickLoads(grid, fractions: fractions, comm: comm)) <= stopThreshold { break }
    }
    return iterations
  }

  /// Cumulative atom counts below each cut along `d`, over all ranks.
  private func tally(_ fractions: [SIMD3<Double>], _ d: Int, _ split: [Double], _ comm: Communicator) -> [Double] {
    var counts = [Double](repeating: 0, count: split.count - 1)
    for lambda in fractions { counts[ProcessorGrid.slab(of: lambda[d], in: split)] += 1 }
    comm.allReduce(&counts, .sum)
    var sum = [0.0]
    for c in counts { sum.append(sum.last! + c) }
    return sum
  }

  /// One step of LAMMPS's recursive multisection: tighten each cut's bounds with the new counts (and
  /// with its neighbours', so bounds stay ordered), then move every cut that misses its target.
  private func adjust(_ split: inout [Double], sum: [Double], target: [Double], lo: inout [Double],
                      hi: inout [Double], loSum: inout [Double], hiSum: inout [Double]) -> Bool {
    let n = split.count - 1
    guard n > 1 else { return false }
    for i in 1..<n {
      if sum[i] <= target[i] { lo[i] = split[i]; loSum[i] = sum[i] }
      if sum[i] >= target[i] { hi[i] = split[i]; hiSum[i] = sum[i] }
    }
    for i in 1..<n where lo[i] < lo[i - 1] { lo[i] = lo[i - 1]; loSum[i] = loSum[i - 1] }
    for i in stride(from: n - 1, to: 0, by: -1) where hi[i] > hi[i + 1] { hi[i] = hi[i + 1]; hiSum[i] = hiSum[i + 1] }
    var moved = false
    for i in 1..<n where sum[i] != target[i] {
      moved = true
      if interpolates {
        split[i] = lo[i] + (target[i] - loSum[i]) / (hiSum[i] - loSum[i]) * (hi[i] - lo[i])
      } else {
        split[i] = 0.5 * (lo[i] + hi[i])
      }
    }
    return moved
  }

  /// Equal adjacent cuts (a narrow distribution, few iterations) spread evenly between the midpoints
  /// of the bricks around them.
  private func spreadDuplicates(_ split: inout [Double]) {
    let n = split.count - 1
    guard (1..<max(n - 1, 1)).contains(where: { split[$0] == split[$0 + 1] }) else { return }
    let middle = (0..<n).map { 0.5 * (split[$0] + split[$0 + 1]) }
    var i = 1
    while i < n - 1 {
      var j = i + 1
      while split[j] == split[i] { j += 1 }
      j -= 1
      if j > i {
        let spacing = (middle[j] - middle[i - 1]) / Double(j - i + 2)
        for k in i...j { split[k] = middle[i - 1] + Double(k - i + 1) * spacing }
      }
      i = j + 1
    }
  }

  /// Bricks narrower than `narrowest` widened with the least movement: a run of too-close cuts is
  /// spaced `narrowest` apart around its middle, pushed inside its neighbours' bounds, and grown by a
  /// neighbouring cut (the one nearer the middle) until it fits.
  private func widenThinBricks(_ split: inout [Double], narrowest close: Double) {
    let n = split.count - 1
    var i = 0
    while i < n {
      guard split[i + 1] - split[i] < close else { i += 1; continue }
      var j = i + 1
      var start = 0.0, stop = 1.0
      while true {
        let width = Double(j - i) * close
        let middle = 0.5 * (split[i] + split[j])
        start = middle - 0.5 * width
        stop = middle + 0.5 * width
        let lower = i > 0 ? split[i - 1] + close : 0
        let upper = j < n ? split[j + 1] - close : 1
        if start >= lower && stop <= upper { break }
        if start < lower {
          start = lower; stop = start + width
          if stop <= upper { break }
        } else if stop > upper {
          stop = upper; start = stop - width
          if start >= lower { break }
        }
        if i == 0 && j == n { start = 0; stop = 1; break }
        if i == 0 { j += 1 } else if j == n { i -= 1 } else if middle - lower < upper - middle { i -= 1 } else { j += 1 }
      }
      let spacing = (stop - start) / Double(j - i)
      for m in i...j { split[m] = start + Double(m - i) * spacing }
      if j == n { split[n] = 1 }
      i = j + 1
    }
  }

  /// Atoms in every brick of `grid` (all ranks' `fractions` together), by rank number.
  public static func brickLoads(_ grid: ProcessorGrid, fractions: [SIMD3<Double>], comm: Communicator) -> [Double] {
    var loads = [Double](repeating: 0, count: grid.size)
    for lambda in fractions {
      let c = SIMD3(ProcessorGrid.slab(of: lambda.x, in: grid.cuts[0]), ProcessorGrid.slab(of: lambda.y, in: grid.cuts[1]),
                    ProcessorGrid.slab(of: lambda.z, in: grid.cuts[2]))
      loads[grid.rankAt(c)] += 1
    }
    comm.allReduce(&loads, .sum)
    return loads
  }

  /// LAMMPS's imbalance factor: the largest load over the mean load (1 when there is none).
  public static func imbalance(loads: [Double]) -> Double {
    let most = loads.max() ?? 0, total = loads.reduce(0, +)
    return most > 0 ? most / (total / Double(loads.count)) : 1
  }
}

/// A balance that cannot be applied.
public struct BalanceError: Error, CustomStringConvertible {
  public let description: String
  public init(_ description: String) { self.description = description }
}
