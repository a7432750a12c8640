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
  /// Per type: −m/damp and the random force's amplitude (refreshed each step); the net random force
  /// of this rank, reduced over all.
  private var dragOfType: [Double] = [], amplitudeOfType: [Double] = []
  private var netRandom = [Double](repeating: 0, count: 3)
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
    let atoms = c.atoms, v = atoms.velocity, f = atoms.force, type = atoms.type, tag = atoms.tag
    let noiseScale = (24 * c.units.boltzmann / damping / c.timestep / c.units.mvv2e).squareRoot() / c.units.ftm2v
      * target.squareRoot()
    updatePerType(c, noiseScale: noiseScale)
    let owned = atoms.ownedCount
    reserve(owned)
    // Each atom's stream is keyed by seed ⊕ id ⊕ step; the seed and step parts are the same for all.
    let stepKey = seed &* 0x9E37_79B9_7F4A_7C15 ^ UInt64(truncatingIfNeeded: c.step) &* 0x94D0_49BB_1331_11EB
    var (netX, netY, netZ) = (0.0, 0.0, 0.0)
    // Buffers outside the loop: a stored array written per atom would be checked for exclusive access
    // and uniqueness at every write.
    applied.withUnsafeMutableBufferPointer { applied in
      dragOfType.withUnsafeBufferPointer { dragOfType in
        amplitudeOfType.withUnsafeBufferPointer { amplitudeOfType in
          for i in 0..<owned {
            let t = Int(type[i])
            let drag = dragOfType[t], amplitude = amplitudeOfType[t]
            var stream = SplitMix64(seed: stepKey ^ UInt64(bitPattern: tag[i]) &* 0xBF58_476D_1CE4_E5B9)
            let j = 3 * i
            let randomX = amplitude * (stream.nextUniform() - 0.5)
            let randomY = amplitude * (stream.nextUniform() - 0.5)
            let randomZ = amplitude * (stream.nextUniform() - 0.5)
            let forceX = drag * v[j] + randomX, forceY = drag * v[j + 1] + randomY, forceZ = drag * v[j + 2] + randomZ
            applied[j] = forceX; applied[j + 1] = forceY; applied[j + 2] = forceZ
            f[j] += forceX; f[j + 1] += forceY; f[j + 2] += forceZ
            netX += randomX; netY += randomY; netZ += randomZ
          }
        }
      }
    }
    if zeroNetForce && c.atomCount > 0 {
      (netRandom[0], netRandom[1], netRandom[2]) = (netX, netY, netZ)
      c.comm.allReduce(&netRandom, .sum)
      for k in 0..<3 { correction[k] = netRandom[k] / Double(c.atomCount) }
      let (cx, cy, cz) = (correction[0], correction[1], correction[2])
      for i in 0..<owned {
        f[3 * i] -= cx; f[3 * i + 1] -= cy; f[3 * i + 2] -= cz
      }
    }
  }

  /// Drag coefficient −m/damp and random-force amplitude √m · scale of each type, for this step.
  private func updatePerType(_ c: FixContext, noiseScale: Double) {
    let types = c.masses.typeCount + 1
    if dragOfType.count != types {
      dragOfType = [Double](repeating: 0, count: types)
      amplitudeOfType = [Double](repeating: 0, count: types)
    }
    for t in 1..<types {
      let m = c.masses[Int32(t)]
      dragOfType[t] = -m / damping / c.units.ftm2v
      amplitudeOfType[t] = m.squareRoot() * noiseScale
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
