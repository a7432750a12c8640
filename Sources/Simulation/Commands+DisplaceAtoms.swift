import Dynamics
import InputDeck

extension Simulation {
  /// `displace_atoms GROUP move DX DY DZ | random DX DY DZ SEED [units box|lattice]` (LAMMPS
  /// `DisplaceAtoms`): `random` moves each atom by up to ±D per dimension, uniformly, with LAMMPS's
  /// generator seeded from SEED and the atom's coordinates (the same displacements as LAMMPS, on any
  /// rank count). Lattice units, the default, multiply by the lattice constant (1 without a lattice).
  /// Atoms are then wrapped into the box; one beyond a fixed boundary is an error, as in LAMMPS.
  func displaceAtoms(_ c: Command) throws {
    guard let box else { throw c.error("the simulation box is not defined yet (create_box or read_data first)") }
    let target = try group(named: try c.word(0, "group"), c)
    let style = try c.word(1, "displace_atoms style")
    let valueCount: Int
    switch style {
    case "move": valueCount = 3
    case "random": valueCount = 4
    case "ramp", "rotate": throw c.error("displace_atoms \(style) is not supported (move, random)")
    default: throw c.error("unsupported displace_atoms style '\(style)' (move, random)")
    }
    var scale = lattice?.constant ?? 1
    var reader = KeywordReader(c, from: 2 + valueCount)
    while let keyword = reader.nextKeyword() {
      guard keyword == "units" else { throw reader.unknownKeyword("units") }
      scale = try reader.choice(["box": 1, "lattice": lattice?.constant ?? 1])
    }
    let d = SIMD3(try c.double(2, "dx"), try c.double(3, "dy"), try c.double(4, "dz")) * scale
    if style == "move" {
      for i in 0..<atoms.ownedCount where target.contains(atoms.tag[i]) { atoms.setPosition(i, atoms.positionOf(i) + d) }
    } else {
      let seed = try c.positiveInteger(5, "seed")
      guard seed <= Int(Int32.max) else { throw c.error("seed \(seed) is larger than \(Int32.max)") }
      for i in 0..<atoms.ownedCount where target.contains(atoms.tag[i]) {
        var x = atoms.positionOf(i)
        var random = ParkMillerRandom(seed: Int32(seed), position: x)
        // LAMMPS's order of operations: (D·2)·(u − ½), one draw per dimension in turn.
        for k in 0..<3 { x[k] += d[k] * 2.0 * (random.uniform() - 0.5) }
        atoms.setPosition(i, x)
      }
    }
    // Image flags count box lengths in 32 bits: a displacement beyond that is an input error.
    var tooFar = 0
    for i in 0..<atoms.ownedCount {
      let lambda = box.fractional(atoms.positionOf(i))
      if !(0..<3).allSatisfy({ lambda[$0].isFinite && abs(lambda[$0]) < 1e9 }) { tooFar += 1 }
    }
    let beyond = comm.allReduce(tooFar, .sum)
    if beyond > 0 {
      throw c.error("\(beyond) atoms would move more than 1e9 box lengths (or to a non-finite position)")
    }
    wrapOwnedAtoms(into: box)
    try checkNoAtomOutsideFixedBounds(box, c)
  }
}
