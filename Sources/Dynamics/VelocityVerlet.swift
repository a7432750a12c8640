import Atoms
import Geometry

/// `fix nve`: velocity Verlet, split at the force evaluation as LAMMPS `FixNVE`.
public final class VelocityVerlet: Fix {
  public init() {}

  public func initialIntegrate(_ c: FixContext) {
    halfKick(c)
    drift(c)
  }

  public func finalIntegrate(_ c: FixContext) { halfKick(c) }

  /// v += dt/2 · f/m (owned atoms).
  func halfKick(_ c: FixContext) {
    let dtf = 0.5 * c.timestep * c.units.ftm2v
    let v = c.atoms.velocity, f = c.atoms.force, type = c.atoms.type
    for i in 0..<c.atoms.ownedCount {
      let scale = dtf / c.masses[type[i]]
      for k in 3 * i..<3 * i + 3 { v[k] += scale * f[k] }
    }
  }

  /// x += dt · v (owned atoms).
  func drift(_ c: FixContext) {
    let x = c.atoms.position, v = c.atoms.velocity
    for k in 0..<(3 * c.atoms.ownedCount) { x[k] += c.timestep * v[k] }
  }
}
