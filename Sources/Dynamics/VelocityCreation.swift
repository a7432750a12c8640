import Atoms
import Communication
import Geometry

/// `velocity GROUP create T SEED [dist uniform|gaussian] [mom yes|no] [rot yes|no] [loop all|local|geom]` and
/// `velocity GROUP scale T`, as LAMMPS's `Velocity::create` draws them with `RanPark`:
/// - `loop all` (the default): one generator seeded by SEED walks every id from 1 to the largest, three
///   numbers per id, and each rank keeps those of the group's atoms it owns: the same on any rank count.
///   With ids 1…N this is LAMMPS's draw; LAMMPS refuses ids with gaps (left by `delete_atoms … compress no`
///   or a data file), here gaps draw numbers nobody keeps; when the largest id exceeds
///   4N + 10⁶ for N atoms, one triple is drawn per existing id in id order instead, so the work stays O(N);
/// - `loop local`: each rank's generator is seeded by SEED + rank and warmed up by 100 draws, then walks
///   its own group atoms in storage order: it depends on the decomposition, as in LAMMPS;
/// - `loop geom`: each atom's generator is seeded from SEED and its coordinates (`RanPark::reset`).
/// Uniform numbers are shifted by −½; each velocity is divided by √m; the group's momentum and angular
/// momentum are removed on request; then the group's velocities are scaled to exactly T (its
/// temperature with 3N − 3 degrees of freedom, N the group's atoms). Atoms outside the group keep theirs.
public struct VelocityCreation {
  public enum Distribution: String, Sendable { case uniform, gaussian }
  public enum Loop: String, Sendable { case all, local, geom }
  public var temperature: Double
  public var seed: Int
  public var distribution: Distribution = .uniform
  public var zeroMomentum = true
  public var zeroRotation = false
  public var loop: Loop = .all

  public init(temperature: Double, seed: Int) {
    self.temperature = temperature
    self.seed = seed
  }

  /// `members(i)`: whether owned atom i is in the group.
  public func apply(_ atoms: AtomStore, masses: Masses, box: Box, units: UnitSystem, comm: Communicator,
                    members: (Int) -> Bool = { _ in true }) {
    func draw(_ random: inout ParkMillerRandom) -> SIMD3<Double> {
      switch distribution {
      case .uniform:
        let x = random.uniform() - 0.5, y = random.uniform() - 0.5
        return SIMD3(x, y, random.uniform() - 0.5)
      case .gaussian:
        let x = random.gaussian(), y = random.gaussian()
        return SIMD3(x, y, random.gaussian())
      }
    }
    func assign(_ i: Int, _ v: SIMD3<Double>) { atoms.setVelocity(i, v / masses[atoms.type[i]].squareRoot()) }
    switch loop {
    case .all:
      let largest = comm.allReduce(Int((0..<atoms.ownedCount).map { atoms.tag[$0] }.max() ?? 0), .max)
      let total = comm.allReduce(atoms.ownedCount, .sum)
      let owned = (0..<atoms.ownedCount).filter(members).sorted { atoms.tag[$0] < atoms.tag[$1] }
      var random = ParkMillerRandom(seed: Int32(truncatingIfNeeded: seed))
      var next = owned.startIndex
      // Ids far beyond the atom count (an id near 2³¹ in a small system) would cost a draw per missing
      // id: then one draw per existing id, in id order, from every rank's ids gathered.
      let ids: [Int64]
      if largest <= 4 * total + 1_000_000 {
        ids = []
      } else {
        let mine = (0..<atoms.ownedCount).map { atoms.tag[$0] }
        let bytes = mine.withUnsafeBytes { Array($0) }
        ids = comm.allGatherBytes(bytes).flatMap { chunk in
          chunk.withUnsafeBytes { Array($0.bindMemory(to: Int64.self)) }
        }.sorted()
      }
      func visit(_ id: Int64) {
        let v = draw(&random)
        if next < owned.endIndex, atoms.tag[owned[next]] == id {
          assign(owned[next], v)
          next += 1
        }
      }
      if ids.isEmpty {
        for id in stride(from: Int64(1), through: Int64(largest), by: 1) { visit(id) }
      } else {
        for id in ids { visit(id) }
      }
    case .local:
      var random = ParkMillerRandom(seed: Int32(truncatingIfNeeded: seed + comm.rank))
      for _ in 0..<100 { _ = random.uniform() }
      for i in 0..<atoms.ownedCount where members(i) { assign(i, draw(&random)) }
    case .geom:
      for i in 0..<atoms.ownedCount where members(i) {
        var random = ParkMillerRandom(seed: Int32(truncatingIfNeeded: seed), position: atoms.positionOf(i))
        assign(i, draw(&random))
      }
    }
    if zeroMomentum { removeMomentum(atoms, masses: masses, comm: comm, members: members) }
    if zeroRotation { removeRotation(atoms, masses: masses, box: box, comm: comm, members: members) }
    VelocityScaling(temperature: temperature).apply(atoms, masses: masses, units: units, comm: comm, members: members)
  }
}

/// `velocity GROUP scale T`: rescales the group's velocities to temperature T (the group's temperature with
/// 3N − 3 degrees of freedom, as LAMMPS's `compute temp` of the group).
public struct VelocityScaling {
  public var temperature: Double
  public init(temperature: Double) { self.temperature = temperature }

  public func apply(_ atoms: AtomStore, masses: Masses, units: UnitSystem, comm: Communicator,
                    members: (Int) -> Bool = { _ in true }) {
    var sums = [0.0, 0.0]  // Σ m v², group atoms
    for i in 0..<atoms.ownedCount where members(i) {
      let v = atoms.velocityOf(i)
      sums[0] += masses[atoms.type[i]] * (v * v).sum()
      sums[1] += 1
    }
    comm.allReduce(&sums, .sum)
    let current = Dynamics.temperature(twiceKinetic: sums[0] * units.mvv2e, atomCount: Int(sums[1]), units: units)
    guard current > 0 else { return }
    let factor = (temperature / current).squareRoot()
    for i in 0..<atoms.ownedCount where members(i) { atoms.setVelocity(i, atoms.velocityOf(i) * factor) }
  }
}

/// Subtracts the centre-of-mass velocity of the owned atoms that are `members` (every one by default).
public func removeMomentum(_ atoms: AtomStore, masses: Masses, comm: Communicator, members: (Int) -> Bool = { _ in true }) {
  var p = [Double](repeating: 0, count: 4)
  for i in 0..<atoms.ownedCount where members(i) {
    let m = masses[atoms.type[i]]
    let v = atoms.velocityOf(i)
    p[0] += m * v.x; p[1] += m * v.y; p[2] += m * v.z; p[3] += m
  }
  comm.allReduce(&p, .sum)
  guard p[3] > 0 else { return }
  let vcm = SIMD3(p[0], p[1], p[2]) / p[3]
  for i in 0..<atoms.ownedCount where members(i) { atoms.setVelocity(i, atoms.velocityOf(i) - vcm) }
}

/// Subtracts the rigid rotation ω × (r − r_cm) with ω = I⁻¹ L, using unwrapped positions, of the
/// owned atoms that are `members` (every one by default).
public func removeRotation(_ atoms: AtomStore, masses: Masses, box: Box, comm: Communicator,
                           members: (Int) -> Bool = { _ in true }) {
  var s = [Double](repeating: 0, count: 4)
  for i in 0..<atoms.ownedCount where members(i) {
    let m = masses[atoms.type[i]]
    let x = box.unwrapped(atoms.positionOf(i), image: atoms.imageOf(i))
    s[0] += m * x.x; s[1] += m * x.y; s[2] += m * x.z; s[3] += m
  }
  comm.allReduce(&s, .sum)
  guard s[3] > 0 else { return }
  let center = SIMD3(s[0], s[1], s[2]) / s[3]
  var q = [Double](repeating: 0, count: 9)  // L (3) and inertia tensor xx yy zz xy xz yz
  for i in 0..<atoms.ownedCount where members(i) {
    let m = masses[atoms.type[i]]
    let r = box.unwrapped(atoms.positionOf(i), image: atoms.imageOf(i)) - center
    let l = m * cross(r, atoms.velocityOf(i))
    q[0] += l.x; q[1] += l.y; q[2] += l.z
    q[3] += m * (r.y * r.y + r.z * r.z); q[4] += m * (r.x * r.x + r.z * r.z); q[5] += m * (r.x * r.x + r.y * r.y)
    q[6] -= m * r.x * r.y; q[7] -= m * r.x * r.z; q[8] -= m * r.y * r.z
  }
  comm.allReduce(&q, .sum)
  let inertia = [[q[3], q[6], q[7]], [q[6], q[4], q[8]], [q[7], q[8], q[5]]]
  guard let omega = solve3(inertia, SIMD3(q[0], q[1], q[2])) else { return }
  for i in 0..<atoms.ownedCount where members(i) {
    let r = box.unwrapped(atoms.positionOf(i), image: atoms.imageOf(i)) - center
    atoms.setVelocity(i, atoms.velocityOf(i) - cross(omega, r))
  }
}

/// Solves a 3×3 linear system by Cramer's rule; nil when singular.
func solve3(_ a: [[Double]], _ b: SIMD3<Double>) -> SIMD3<Double>? {
  func det(_ m: [[Double]]) -> Double {
    m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1]) - m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0])
      + m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0])
  }
  let d = det(a)
  guard abs(d) > 1e-300 else { return nil }
  var x = SIMD3<Double>()
  for c in 0..<3 {
    var m = a
    for r in 0..<3 { m[r][c] = b[r] }
    x[c] = det(m) / d
  }
  return x
}

/// A small, fast, well-mixed generator (Steele, Lea & Flood 2014), public for the fuzzer, which draws
/// its cases from it.
public struct SplitMix64: RandomNumberGenerator {
  var state: UInt64
  public init(seed: UInt64) { state = seed }
  public mutating func next() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }
  /// Uniform in [0, 1) with 53 random bits.
  mutating func nextUniform() -> Double { Double(next() >> 11) * 0x1p-53 }
  /// Standard normal by Box–Muller.
  mutating func nextGaussian() -> Double {
    let u1 = max(nextUniform(), 0x1p-60), u2 = nextUniform()
    return (-2 * log(u1)).squareRoot() * cos(2 * Double.pi * u2)
  }
}

#if canImport(Glibc)
import Glibc
#endif
