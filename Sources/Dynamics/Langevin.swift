import Foundation

/// `fix ID all langevin Tstart Tstop damp SEED [zero yes]` (with `fix nve`): a drag −m v/damp and a
/// random force of variance 2 m kB T/(damp dt) added to every atom after the forces, as LAMMPS
/// `FixLangevin` (uniform deviates scaled by √24, its choice).
///
/// LAMMPS draws from one stream per rank; here each atom's deviates come from a counter-based
/// generator keyed by (seed, atom id, step), so the run is the same on any number of ranks.
public final class Langevin: Fix {
  public let startTemperature, stopTemperature, damping: Double
  public let seed: UInt64
  public let zeroNetForce: Bool

  public init(startTemperature: Double, stopTemperature: Double, damping: Double, seed: Int, zeroNetForce: Bool) {
    self.startTemperature = startTemperature
    self.stopTemperature = stopTemperature
    self.damping = damping
    self.seed = UInt64(truncatingIfNeeded: seed)
    self.zeroNetForce = zeroNetForce
  }

  public func setup(_ c: FixContext) { postForce(c) }

  public func postForce(_ c: FixContext) {
    let target = startTemperature + c.runFraction * (stopTemperature - startTemperature)
    let atoms = c.atoms, v = atoms.velocity, f = atoms.force
    let noiseScale = (24 * c.units.boltzmann / damping / c.timestep / c.units.mvv2e).squareRoot() / c.units.ftm2v
      * target.squareRoot()
    var netRandom = [Double](repeating: 0, count: 3)
    let owned = atoms.ownedCount
    for i in 0..<owned {
      let m = c.masses[atoms.type[i]]
      let drag = -m / damping / c.units.ftm2v
      let amplitude = m.squareRoot() * noiseScale
      var stream = SplitMix64(seed: seed &* 0x9E37_79B9_7F4A_7C15 ^ UInt64(bitPattern: atoms.tag[i]) &* 0xBF58_476D_1CE4_E5B9
                                ^ UInt64(truncatingIfNeeded: c.step) &* 0x94D0_49BB_1331_11EB)
      for k in 0..<3 {
        let random = amplitude * (stream.nextUniform() - 0.5)
        f[3 * i + k] += drag * v[3 * i + k] + random
        netRandom[k] += random
      }
    }
    if zeroNetForce && c.atomCount > 0 {
      c.comm.allReduce(&netRandom, .sum)
      for i in 0..<owned {
        for k in 0..<3 { f[3 * i + k] -= netRandom[k] / Double(c.atomCount) }
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
