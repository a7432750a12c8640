import Atoms
import Communication
import Geometry

/// Kinetic energy tensor Σ m v⊗v · mvv2e over all ranks, in LAMMPS order xx yy zz xy xz yz.
public func kineticTensor(_ atoms: AtomStore, masses: Masses, units: UnitSystem, comm: Communicator) -> [Double] {
  // Scalar accumulators: an array mutated in the loop would be checked for uniqueness at every add.
  var (xx, yy, zz, xy, xz, yz) = (0.0, 0.0, 0.0, 0.0, 0.0, 0.0)
  let v = atoms.velocity, type = atoms.type
  for i in 0..<atoms.ownedCount {
    let m = masses[type[i]]
    let vx = v[3 * i], vy = v[3 * i + 1], vz = v[3 * i + 2]
    xx += m * vx * vx; yy += m * vy * vy; zz += m * vz * vz
    xy += m * vx * vy; xz += m * vx * vz; yz += m * vy * vz
  }
  var t = [xx, yy, zz, xy, xz, yz]
  for k in 0..<6 { t[k] *= units.mvv2e }
  comm.allReduce(&t, .sum)
  return t
}

/// Degrees of freedom of the default temperature compute: 3N − 3 (momentum conserved), as LAMMPS.
public func degreesOfFreedom(atomCount: Int, dimension: Int = 3) -> Double {
  Double(dimension * atomCount - dimension)
}

/// Temperature from twice the kinetic energy (trace of the kinetic tensor).
public func temperature(twiceKinetic: Double, atomCount: Int, units: UnitSystem) -> Double {
  let dof = degreesOfFreedom(atomCount: atomCount)
  return dof > 0 ? twiceKinetic / (dof * units.boltzmann) : 0
}
