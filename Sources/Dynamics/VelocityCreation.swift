import Atoms
import Communication
import Geometry

/// `velocity all create T SEED [dist uniform|gaussian] [mom yes|no] [rot yes|no]` and
/// `velocity all scale T`.
///
/// Each atom's random velocity comes from a generator seeded by (SEED, atom id), so the result does
/// not depend on how atoms are spread over ranks (LAMMPS's `loop all` gives the same guarantee by
/// looping over every id on every rank). Velocities are divided by √m, momentum and angular momentum
/// removed on request, then scaled to exactly T with 3N − 3 degrees of freedom.
public struct VelocityCreation {
  public enum Distribution: String, Sendable { case uniform, gaussian }
  public var temperature: Double
  public var seed: Int
  public var distribution: Distribution = .uniform
  public var zeroMomentum = true
  public var zeroRotation = false

  public init(temperature: Double, seed: Int) {
    self.temperature = temperature
    self.seed = seed
  }

  public func apply(_ atoms: AtomStore, masses: Masses, box: Box, units: UnitSystem, comm: Communicator) {
    for i in 0..<atoms.ownedCount {
      var rng = SplitMix64(seed: UInt64(truncatingIfNeeded: seed) &* 0x9E37_79B9_7F4A_7C15 ^ UInt64(atoms.tag[i]))
      var v = SIMD3<Double>()
      for k in 0..<3 {
        switch distribution {
        case .uniform: v[k] = rng.nextUniform() - 0.5
        case .gaussian: v[k] = rng.nextGaussian()
        }
      }
      atoms.setVelocity(i, v / masses[atoms.type[i]].squareRoot())
    }
    if zeroMomentum { removeMomentum(atoms, masses: masses, comm: comm) }
    if zeroRotation { removeRotation(atoms, masses: masses, box: box, comm: comm) }
    VelocityScaling(temperature: temperature).apply(atoms, masses: masses, units: units, comm: comm)
  }
}

/// `velocity all scale T`: rescales velocities to temperature T.
public struct VelocityScaling {
  public var temperature: Double
  public init(temperature: Double) { self.temperature = temperature }

  public func apply(_ atoms: AtomStore, masses: Masses, units: UnitSystem, comm: Communicator) {
    let natoms = comm.allReduce(atoms.ownedCount, .sum)
    let k = kineticTensor(atoms, masses: masses, units: units, comm: comm)
    let current = Dynamics.temperature(twiceKinetic: k[0] + k[1] + k[2], atomCount: natoms, units: units)
    guard current > 0 else { return }
    let factor = (temperature / current).squareRoot()
    for j in 0..<3 * atoms.ownedCount { atoms.velocity[j] *= factor }
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

/// A small, fast, well-mixed generator (Steele, Lea & Flood 2014); one per atom per call. Public so
/// the fuzzer draws its cases from the same generator.
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
