import Atoms
import Geometry

/// `fix nve`: velocity Verlet, split at the force evaluation as LAMMPS `FixNVE`.
public struct VelocityVerlet {
  public var timestep: Double
  public let units: UnitSystem

  public init(timestep: Double, units: UnitSystem) {
    self.timestep = timestep
    self.units = units
  }

  /// v += dt/2 · f/m, then x += dt · v (owned atoms).
  public func firstHalf(_ atoms: AtomStore, masses: Masses) {
    let dtf = 0.5 * timestep * units.ftm2v
    let x = atoms.position, v = atoms.velocity, f = atoms.force, type = atoms.type
    for i in 0..<atoms.ownedCount {
      let scale = dtf / masses[type[i]]
      for k in 3 * i..<3 * i + 3 {
        v[k] += scale * f[k]
        x[k] += timestep * v[k]
      }
    }
  }

  /// v += dt/2 · f/m (owned atoms), with the forces of the new positions.
  public func secondHalf(_ atoms: AtomStore, masses: Masses) {
    let dtf = 0.5 * timestep * units.ftm2v
    let v = atoms.velocity, f = atoms.force, type = atoms.type
    for i in 0..<atoms.ownedCount {
      let scale = dtf / masses[type[i]]
      for k in 3 * i..<3 * i + 3 { v[k] += scale * f[k] }
    }
  }
}
