import Atoms
import Communication
import Dynamics
import Geometry
import TesseraTestSupport
import XCTest

/// The integrators on systems with known answers: independent harmonic oscillators (force −k·x on
/// every atom, no neighbours) and free particles, stepped in LAMMPS's `Verlet` order of hooks.
final class IntegratorTests: XCTestCase {
  let spring = 1.5

  /// Atoms of types 1 (mass 1) and 2 (mass 2.5), each an oscillator about the origin.
  /// `keeps` picks the atoms (by index) one rank holds.
  static func system(_ positions: [SIMD3<Double>], velocities: [SIMD3<Double>], keeps: (Int) -> Bool = { _ in true })
    -> (AtomStore, Masses) {
    let atoms = AtomStore()
    for (i, (x, v)) in zip(positions, velocities).enumerated() where keeps(i) {
      atoms.appendOwned(tag: Int64(i + 1), type: Int32(1 + i % 2), position: x, velocity: v)
    }
    var masses = Masses(typeCount: 2)
    masses.set(type: 1, mass: 1)
    masses.set(type: 2, mass: 2.5)
    return (atoms, masses)
  }

  static func computeForces(_ atoms: AtomStore, spring: Double) -> Double {
    var energy = 0.0
    for k in 0..<(3 * atoms.ownedCount) {
      atoms.force[k] = -spring * atoms.position[k]
      energy += 0.5 * spring * atoms.position[k] * atoms.position[k]
    }
    return energy
  }

  /// Runs `steps` steps of `fixes`; `observe` sees the context and potential energy after each.
  /// On `comm`, whose ranks hold `atomCount` atoms together, each rank its `atoms`.
  static func run(_ fixes: [Fix], atoms: AtomStore, masses: Masses, timestep: Double, steps: Int, spring: Double,
                  comm: Communicator = SerialCommunicator(), atomCount: Int? = nil,
                  observe: (FixContext, Double) -> Void = { _, _ in }) throws {
    var context = FixContext(atoms: atoms, boxState: BoxState(box: Box(lo: SIMD3(repeating: -50), hi: SIMD3(repeating: 50))),
                             masses: masses, units: .lj, comm: comm, timestep: timestep, step: 0,
                             runStart: 0, runEnd: steps, atomCount: atomCount ?? atoms.ownedCount)
    _ = computeForces(atoms, spring: spring)
    for fix in fixes { fix.setup(context) }
    for step in 1...steps {
      context.step = step
      for fix in fixes { try fix.initialIntegrate(context) }
      let energy = computeForces(atoms, spring: spring)
      for fix in fixes { fix.postForce(context) }
      for fix in fixes { fix.finalIntegrate(context) }
      for fix in fixes { fix.endOfStep(context) }
      observe(context, comm.allReduce(energy, .sum))
    }
  }

  /// Velocity Verlet's positions obey x_{n+1} − 2x_n + x_{n−1} = −(ωΔt)² x_n, so from rest at x₀ they
  /// are exactly x₀·cos(nθ) with cos θ = 1 − (ωΔt)²/2; and they follow the analytic x₀·cos(ωt) to the
  /// method's phase error t·ω³Δt²/24.
  func testVelocityVerletOnAHarmonicOscillator() throws {
    let start: [SIMD3<Double>] = [SIMD3(1, -0.5, 0.25), SIMD3(-2, 0.75, 1.5)]
    let (atoms, masses) = Self.system(start, velocities: [.zero, .zero])
    let dt = 0.01, steps = 1000
    try Self.run([VelocityVerlet()], atoms: atoms, masses: masses, timestep: dt, steps: steps, spring: spring)
    for i in 0..<2 {
      let omega = (spring / masses[atoms.type[i]]).squareRoot()
      let theta = acos(1 - 0.5 * (omega * dt) * (omega * dt))
      let discrete = start[i] * cos(Double(steps) * theta)
      let analytic = start[i] * cos(omega * dt * Double(steps))
      let phaseError = dt * Double(steps) * pow(omega, 3) * dt * dt / 24
      for k in 0..<3 {
        XCTAssertEqual(atoms.positionOf(i)[k], discrete[k], accuracy: 1e-11 * abs(start[i][k]), "atom \(i), \(k)")
        XCTAssertEqual(atoms.positionOf(i)[k], analytic[k], accuracy: 1.5 * phaseError * abs(start[i][k]), "atom \(i), \(k)")
      }
    }
  }

  /// `temp/berendsen` without forces: T_{n+1} = T_n + Δt/τ (T_target − T_n), so the temperature reaches
  /// its target geometrically; the energy it reports exchanged is the kinetic energy it removed.
  func testBerendsenReachesItsTarget() throws {
    var random = SeededRandom(seed: 2)
    let count = 50
    let positions = (0..<count).map { _ in SIMD3(random.uniform(), random.uniform(), random.uniform()) }
    let velocities = (0..<count).map { _ in SIMD3(random.uniform(), random.uniform(), random.uniform()) * 4 - 2 }
    let (atoms, masses) = Self.system(positions, velocities: velocities)
    let dt = 0.005, damping = 0.1, target = 0.5
    // The temperature of compute temp: Σ m v² / (3N − 3) in reduced units.
    let twiceKinetic = zip(velocities.indices, velocities).map { masses[Int32(1 + $0.0 % 2)] * ($0.1 * $0.1).sum() }.reduce(0, +)
    let start = twiceKinetic / Double(3 * count - 3)
    var temperatures: [Double] = []
    let berendsen = BerendsenThermostat(startTemperature: target, stopTemperature: target, damping: damping)
    try Self.run([VelocityVerlet(), berendsen], atoms: atoms, masses: masses, timestep: dt, steps: 400, spring: 0) { c, _ in
      temperatures.append(c.temperature())
      XCTAssertEqual(0.5 * c.twiceKineticEnergy() + berendsen.coupledEnergy, 0.5 * twiceKinetic, accuracy: 1e-12 * twiceKinetic)
    }
    XCTAssertEqual(temperatures.count, 400)
    XCTAssertGreaterThan(start, 2 * target, "the test must start far from the target")
    for (n, t) in temperatures.enumerated() {
      let expected = target + (start - target) * pow(1 - dt / damping, Double(n + 1))
      XCTAssertEqual(t, expected, accuracy: 1e-10 * expected, "step \(n + 1)")
    }
    XCTAssertEqual(temperatures.last!, target, accuracy: 1e-8)
  }

  /// `nvt`: a Nosé–Hoover chain conserves kinetic + potential + chain energy (to the integrator's
  /// fluctuation), while the chain exchanges far more than that with the oscillators and drives their
  /// temperature to the target on average.
  func testNoseHooverChainConservesItsExtendedEnergy() throws {
    var random = SeededRandom(seed: 7)
    let count = 64
    let positions = (0..<count).map { _ in SIMD3(random.uniform(), random.uniform(), random.uniform()) * 2 - 1 }
    let velocities = (0..<count).map { _ in SIMD3(random.uniform(), random.uniform(), random.uniform()) * 0.2 - 0.1 }
    let (atoms, masses) = Self.system(positions, velocities: velocities)
    let chain = NoseHooverChain(startTemperature: 1.0, stopTemperature: 1.0, damping: 0.1)
    var extended: [Double] = [], coupled: [Double] = [], temperatures: [Double] = []
    try Self.run([chain], atoms: atoms, masses: masses, timestep: 0.002, steps: 20000, spring: spring) { c, potential in
      extended.append(0.5 * c.twiceKineticEnergy() + potential + chain.coupledEnergy)
      coupled.append(chain.coupledEnergy)
      temperatures.append(c.temperature())
    }
    let drift = extended.map { abs($0 - extended[0]) }.max()!
    let exchanged = coupled.map(abs).max()!
    XCTAssertLessThan(drift, 1e-4 * exchanged, "drift \(drift) against exchanged \(exchanged)")
    XCTAssertGreaterThan(exchanged, 20, "the chain must do work")
    let secondHalf = temperatures.suffix(10000)
    XCTAssertEqual(secondHalf.reduce(0, +) / Double(secondHalf.count), 1.0, accuracy: 0.1)
  }

  /// The same chain on 1 and on 3 simulated ranks, the oscillators dealt out round-robin: the ranks'
  /// sums of kinetic energy meet in the thermostat, so the runs agree to round-off.
  func testNoseHooverChainOnSimulatedRanksFollowsOneRank() throws {
    var random = SeededRandom(seed: 13)
    let count = 30
    let positions = (0..<count).map { _ in SIMD3(random.uniform(), random.uniform(), random.uniform()) * 2 - 1 }
    let velocities = (0..<count).map { _ in SIMD3(random.uniform(), random.uniform(), random.uniform()) - 0.5 }
    let spring = self.spring
    let series = try [1, 3].map { ranks in
      try runRanks(ranks) { comm -> [Double] in
        let (atoms, masses) = Self.system(positions, velocities: velocities) { $0 % comm.size == comm.rank }
        let chain = NoseHooverChain(startTemperature: 1.5, stopTemperature: 1.5, damping: 0.1)
        var extended: [Double] = []
        try Self.run([chain], atoms: atoms, masses: masses, timestep: 0.002, steps: 500, spring: spring, comm: comm,
                     atomCount: count) { c, potential in
          extended.append(0.5 * c.twiceKineticEnergy() + potential + chain.coupledEnergy)
          extended.append(c.temperature())
        }
        return extended
      }
    }
    XCTAssertEqual(series[1].count, 3)
    XCTAssertEqual(series[0][0].count, 1000)
    for rank in 0..<3 {
      XCTAssertEqual(series[1][rank].count, series[0][0].count)
      for (k, (a, b)) in zip(series[0][0], series[1][rank]).enumerated() {
        XCTAssertEqual(a, b, accuracy: 1e-12 * abs(a), "rank \(rank), value \(k)")
      }
    }
    // The temperature moved: the comparison is not between two resting systems.
    XCTAssertGreaterThan(abs(series[0][0][1] - series[0][0].last!), 0.1)
  }
}
