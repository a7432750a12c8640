import Atoms
import Communication
import Geometry

/// Kinetic energy tensor Σ m v⊗v · mvv2e over all ranks, in LAMMPS order xx yy zz xy xz yz.
public func kineticTensor(_ atoms: AtomStore, masses: Masses, units: UnitSystem, comm: Communicator) -> [Double] {
  var t = [Double](repeating: 0, count: 6)
  let v = atoms.velocity
  for i in 0..<atoms.ownedCount {
    let m = masses[atoms.type[i]]
    let vx = v[3 * i], vy = v[3 * i + 1], vz = v[3 * i + 2]
    t[0] += m * vx * vx; t[1] += m * vy * vy; t[2] += m * vz * vz
    t[3] += m * vx * vy; t[4] += m * vx * vz; t[5] += m * vy * vz
  }
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
