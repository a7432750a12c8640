import Geometry

/// The 3-D grid of ranks, each owning one brick of the box in fractional coordinates.
///
/// Ranks are numbered x fastest: rank = ix + Px·(iy + Py·iz). Brick boundaries are uniform in
/// fractional coordinates, so a triclinic box is cut along its own edge vectors, as in LAMMPS.
public struct ProcessorGrid: Sendable, Equatable {
  public let counts: SIMD3<Int>
  public let rank: Int
  public let coordinates: SIMD3<Int>

  public init(counts: SIMD3<Int>, rank: Int) {
    self.counts = counts
    self.rank = rank
    coordinates = SIMD3(rank % counts.x, (rank / counts.x) % counts.y, rank / (counts.x * counts.y))
  }

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
    SIMD3(Double(coordinates.x) / Double(counts.x), Double(coordinates.y) / Double(counts.y),
          Double(coordinates.z) / Double(counts.z))
  }
  public var upper: SIMD3<Double> {
    SIMD3(Double(coordinates.x + 1) / Double(counts.x), Double(coordinates.y + 1) / Double(counts.y),
          Double(coordinates.z + 1) / Double(counts.z))
  }

  /// Whether fractional coordinate `lambda` belongs to this rank's brick along `d`. The last brick of
  /// a dimension takes everything above (atoms outside a fixed boundary stay with the edge rank).
  @inlinable
  public func owns(_ lambda: Double, along d: Int) -> Bool {
    let c = coordinates[d], n = counts[d]
    let index = Self.brickIndex(lambda, count: n)
    return index == c
  }

  @inlinable
  static func brickIndex(_ lambda: Double, count: Int) -> Int {
    let i = Int((lambda * Double(count)).rounded(.down))
    return min(max(i, 0), count - 1)
  }

  /// Which rank owns a point of fractional coordinates `lambda` (clamped into the box).
  public func owner(ofFractional lambda: SIMD3<Double>) -> Int {
    rankAt(SIMD3(Self.brickIndex(lambda.x, count: counts.x), Self.brickIndex(lambda.y, count: counts.y),
                 Self.brickIndex(lambda.z, count: counts.z)))
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
