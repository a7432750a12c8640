import Foundation

/// `fix ID all langevin Tstart Tstop damp SEED [zero yes]` (with `fix nve`): a drag −m v/damp and a
/// random force of variance 2 m kB T/(damp dt) added to every atom after the forces, as LAMMPS
/// `FixLangevin` (uniform deviates scaled by √24, its choice).
///
/// LAMMPS draws from one stream per rank; here each atom's deviates come from a counter-based
/// generator keyed by (seed, atom id, step), so the run is the same on any number of ranks.
///
/// The drag of a run's first step uses the full-step velocities (LAMMPS's setup), the later ones the
/// half-step velocities; so a restart written during a run keeps each atom's last Langevin force,
/// which the continued run's setup applies again instead of recomputing it.
public final class Langevin: Fix {
  public let startTemperature, stopTemperature, damping: Double
  public let seed: UInt64
  public let zeroNetForce: Bool
  /// Drag plus random force of each owned atom at the last force evaluation, and the net random
  /// force per atom taken off every atom (`zero yes`).
  private var applied: [Double] = []
  private var appliedCount = 0
  private var correction = [Double](repeating: 0, count: 3)
  private var hasRun = false
  /// Per-atom forces from a restart, for the first setup.
  private var restoredForces: [Int64: ArraySlice<Double>]?

  public init(startTemperature: Double, stopTemperature: Double, damping: Double, seed: Int, zeroNetForce: Bool) {
    self.startTemperature = startTemperature
    self.stopTemperature = stopTemperature
    self.damping = damping
    self.seed = UInt64(truncatingIfNeeded: seed)
    self.zeroNetForce = zeroNetForce
  }

  public func setup(_ c: FixContext) {
    defer { restoredForces = nil }
    if let restored = restoredForces {
      let atoms = c.atoms
      let missing = (0..<atoms.ownedCount).contains { restored[atoms.tag[$0]] == nil }
      if c.comm.allReduce(missing ? 1 : 0, .max) == 0 {
        reapply(restored, c)
        return
      }
    }
    postForce(c)
  }

  /// The forces of the step the restart was written at, added exactly as `postForce` added them.
  private func reapply(_ restored: [Int64: ArraySlice<Double>], _ c: FixContext) {
    let atoms = c.atoms, f = atoms.force, owned = atoms.ownedCount
    reserve(owned)
    for i in 0..<owned {
      let values = restored[atoms.tag[i]]!
      for k in 0..<3 {
        let force = values[values.startIndex + k]
        applied[3 * i + k] = force
        f[3 * i + k] += force
      }
    }
    if zeroNetForce && c.atomCount > 0 {
      for i in 0..<owned {
        for k in 0..<3 { f[3 * i + k] -= correction[k] }
      }
    }
  }

  private func reserve(_ owned: Int) {
    if applied.count < 3 * owned { applied = [Double](repeating: 0, count: 3 * owned + 3 * owned / 4) }
    appliedCount = owned
    hasRun = true
  }

  public var restartState: [Double] { hasRun ? correction : [] }

  public func restore(_ state: [Double]) throws {
    guard state.isEmpty || state.count == 3 else {
      throw FixStateError("expected the net random force (3 numbers), got \(state.count)")
    }
    if state.count == 3 { correction = state }
  }

  public var restartValuesPerAtom: Int { hasRun ? 3 : 0 }

  public func appendRestartValues(ofOwned i: Int, to values: inout [Double]) {
    guard hasRun else { return }
    values += i < appliedCount ? applied[(3 * i)..<(3 * i + 3)] : [0, 0, 0]
  }

  public func restorePerAtom(_ values: [Int64: ArraySlice<Double>]) throws {
    guard !values.isEmpty else { return }
    guard values.values.allSatisfy({ $0.count == 3 }) else { throw FixStateError("expected 3 force components per atom") }
    restoredForces = values
  }

  public func postForce(_ c: FixContext) {
    let target = startTemperature + c.runFraction * (stopTemperature - startTemperature)
    let atoms = c.atoms, v = atoms.velocity, f = atoms.force
    let noiseScale = (24 * c.units.boltzmann / damping / c.timestep / c.units.mvv2e).squareRoot() / c.units.ftm2v
      * target.squareRoot()
    var netRandom = [Double](repeating: 0, count: 3)
    let owned = atoms.ownedCount
    reserve(owned)
    for i in 0..<owned {
      let m = c.masses[atoms.type[i]]
      let drag = -m / damping / c.units.ftm2v
      let amplitude = m.squareRoot() * noiseScale
      var stream = SplitMix64(seed: seed &* 0x9E37_79B9_7F4A_7C15 ^ UInt64(bitPattern: atoms.tag[i]) &* 0xBF58_476D_1CE4_E5B9
                                ^ UInt64(truncatingIfNeeded: c.step) &* 0x94D0_49BB_1331_11EB)
      for k in 0..<3 {
        let random = amplitude * (stream.nextUniform() - 0.5)
        let force = drag * v[3 * i + k] + random
        applied[3 * i + k] = force
        f[3 * i + k] += force
        netRandom[k] += random
      }
    }
    if zeroNetForce && c.atomCount > 0 {
      c.comm.allReduce(&netRandom, .sum)
      for k in 0..<3 { correction[k] = netRandom[k] / Double(c.atomCount) }
      for i in 0..<owned {
        for k in 0..<3 { f[3 * i + k] -= correction[k] }
      }
    }
  }
}

/// `fix ID all momentum N linear 1 1 1`: the centre-of-mass velocity removed every N steps.
public final class MomentumRemoval: Fix {
  public let every: Int

  public init(every: Int) { self.every = every }

  public func endOfStep(_ c: FixContext) {
    if c.step % every == 0 { removeMomentum(c.atoms, masses: c.masses, comm: c.comm) }
  }
}
