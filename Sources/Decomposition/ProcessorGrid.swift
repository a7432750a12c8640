import Geometry

/// The 3-D grid of ranks, each owning one brick of the box in fractional coordinates.
///
/// Ranks are numbered x fastest: rank = ix + Px·(iy + Py·iz). Brick boundaries are cuts in
/// fractional coordinates (LAMMPS's `xsplit`, `ysplit`, `zsplit`), uniform until a `balance` moves
/// them, so a triclinic box is cut along its own edge vectors and a box changed by a barostat keeps
/// the same fractions, as in LAMMPS.
public struct ProcessorGrid: Sendable, Equatable {
  public let counts: SIMD3<Int>
  public let rank: Int
  public let coordinates: SIMD3<Int>
  /// Per dimension, `counts[d] + 1` ascending fractions from 0 to 1: brick k spans [cuts[k], cuts[k+1]).
  public private(set) var cuts: [[Double]]
  /// Dimensions whose cuts are the uniform k/n (ownership then uses LAMMPS's uniform arithmetic).
  private var uniform = [true, true, true]

  public init(counts: SIMD3<Int>, rank: Int) {
    self.counts = counts
    self.rank = rank
    coordinates = SIMD3(rank % counts.x, (rank / counts.x) % counts.y, rank / (counts.x * counts.y))
    cuts = (0..<3).map { d in Self.uniformCuts(counts[d]) }
  }

  static func uniformCuts(_ n: Int) -> [Double] { (0...n).map { Double($0) / Double(n) } }

  /// Moves the brick boundaries along `d` (`values`: 0, the inner cuts ascending, 1).
  public mutating func setCuts(_ values: [Double], along d: Int) {
    precondition(values.count == counts[d] + 1 && values.first == 0 && values.last == 1,
                 "cuts along \(d) must run from 0 to 1 with \(counts[d] + 1) values")
    cuts[d] = values
    uniform[d] = values == Self.uniformCuts(counts[d])
  }

  /// Whether every dimension is still cut uniformly.
  public var isUniform: Bool { uniform.allSatisfy { $0 } }

  public var size: Int { counts.x * counts.y * counts.z }

  public func rankAt(_ c: SIMD3<Int>) -> Int {
    var w = c
    for d in 0..<3 { w[d] = ((c[d] % counts[d]) + counts[d]) % counts[d] }
    return w.x + counts.x * (w.y + counts.y * w.z)
  }

  /// Rank one step lower (`-1`) or higher (`+1`) along `dimension`, periodically.
  public func neighbor(_ dimension: Int, _ direction: Int) -> Int {
    var c = coordinates
    c[dimension] += direction
    return rankAt(c)
  }

  /// Fractional bounds of this rank's brick: `[lower, upper)` per dimension.
  public var lower: SIMD3<Double> {
    SIMD3(cuts[0][coordinates.x], cuts[1][coordinates.y], cuts[2][coordinates.z])
  }
  public var upper: SIMD3<Double> {
    SIMD3(cuts[0][coordinates.x + 1], cuts[1][coordinates.y + 1], cuts[2][coordinates.z + 1])
  }

  /// Whether fractional coordinate `lambda` belongs to this rank's brick along `d`. The last brick of
  /// a dimension takes everything above (atoms outside a fixed boundary stay with the edge rank).
  public func owns(_ lambda: Double, along d: Int) -> Bool {
    brickIndex(lambda, along: d) == coordinates[d]
  }

  /// The brick along `d` holding fractional coordinate `lambda`, clamped to the first and last.
  public func brickIndex(_ lambda: Double, along d: Int) -> Int {
    let n = counts[d]
    if uniform[d] {
      let i = Int((lambda * Double(n)).rounded(.down))
      return min(max(i, 0), n - 1)
    }
    return Self.slab(of: lambda, in: cuts[d])
  }

  /// Index k with cuts[k] ≤ λ < cuts[k+1] by bisection, 0 below and the last slab above (LAMMPS
  /// `utils::binary_search`).
  public static func slab(of lambda: Double, in cuts: [Double]) -> Int {
    var lo = 0, hi = cuts.count - 2
    if lambda < cuts[lo] { return lo }
    if lambda >= cuts[hi] { return hi }
    while lo < hi - 1 {
      let mid = (lo + hi) / 2
      if lambda < cuts[mid] { hi = mid } else { lo = mid }
    }
    return lo
  }

  /// Which rank owns a point of fractional coordinates `lambda` (clamped into the box).
  public func owner(ofFractional lambda: SIMD3<Double>) -> Int {
    rankAt(SIMD3(brickIndex(lambda.x, along: 0), brickIndex(lambda.y, along: 1), brickIndex(lambda.z, along: 2)))
  }

  /// Swaps per direction the halo needs along `d` so that every brick receives all atoms within
  /// `reach` (fractional) of its faces: enough bricks to span the reach from the thinnest run of
  /// neighbours (LAMMPS `CommBrick` with a non-uniform layout), periodically wrapped. At least one.
  public func hops(along d: Int, reach: Double) -> Int {
    let n = counts[d]
    if uniform[d] { return max(1, Int((reach / (1.0 / Double(n))).rounded(.up))) }
    let widths = (0..<n).map { cuts[d][$0 + 1] - cuts[d][$0] }
    var most = 1
    for first in 0..<n {
      // Bricks above, then below, `first` until their span covers the reach.
      for direction in [1, -1] {
        var span = 0.0, k = 0
        while span < reach {
          k += 1
          span += widths[((first + direction * k) % n + n) % n]
        }
        most = max(most, k)
      }
    }
    return most
  }

  /// LAMMPS `processors * * *`: the factorisation of `ranks` minimising the area of brick faces
  /// (the ghost volume per rank), with any dimension fixed by `requested` (0 = free).
  public static func choose(ranks: Int, box: Box, requested: SIMD3<Int> = .zero) -> SIMD3<Int>? {
    // Face areas of the whole box, as LAMMPS `procs2box`; for triclinic, of the tilted faces.
    let a = SIMD3(box.length.x, 0, 0), b = SIMD3(box.xy, box.length.y, 0)
    let c = SIMD3(box.xz, box.yz, box.length.z)
    func norm(_ v: SIMD3<Double>) -> Double { (v * v).sum().squareRoot() }
    let areaXY = norm(cross(a, b)), areaXZ = norm(cross(a, c)), areaYZ = norm(cross(b, c))
    var best: SIMD3<Int>?
    var bestSurface = Double.infinity
    for px in 1...ranks where ranks % px == 0 {
      if requested.x > 0 && px != requested.x { continue }
      let rest = ranks / px
      for py in 1...rest where rest % py == 0 {
        if requested.y > 0 && py != requested.y { continue }
        let pz = rest / py
        if requested.z > 0 && pz != requested.z { continue }
        let surface = areaXY / Double(px * py) + areaXZ / Double(px * pz) + areaYZ / Double(py * pz)
        if surface < bestSurface * (1 - 1e-12) {
          bestSurface = surface
          best = SIMD3(px, py, pz)
        }
      }
    }
    return best
  }
}
