import Atoms
import Foundation
import Geometry
import InputDeck
import Trajectory

extension Simulation {
  /// `read_data FILE`: defines the box (with the current `boundary`), masses, atoms, velocities.
  func readData(_ c: Command) throws {
    try c.expectCount(1, usage: "read_data FILE")
    if box != nil { throw c.error("the box is already defined") }
    let reader = try DataFileReader(path: c.arguments[0], command: c)
    let header = try reader.header(periodic: periodic)
    do {
      try defineBox(header.box, typeCount: header.types, c)
    } catch let error as DeckError {
      throw c.error("the box in data file '\(c.arguments[0])': \(error.message)")
    }
    let grid = grid!, box = box!
    var localIndex: [Int64: Int] = [:]
    try reader.body(from: header.bodyStart, header: header, masses: &masses,
      keep: { tag, type, x, image in
        guard grid.owner(ofFractional: box.fractional(x)) == grid.rank else { return false }
        localIndex[tag] = atoms.ownedCount
        atoms.appendOwned(tag: tag, type: type, position: x, image: image)
        return true
      },
      velocity: { tag, v in
        if let i = localIndex[tag] { atoms.setVelocity(i, v) }
      })
    let total = comm.allReduce(atoms.ownedCount, .sum)
    if total != header.atoms {
      throw c.error("\(header.atoms) atoms in the file but \(total) assigned to ranks (duplicate atom ids?)")
    }
    if comm.allReduce(localIndex.count, .sum) != header.atoms { throw c.error("duplicate atom ids in '\(c.arguments[0])'") }
    atomCount = total
    console.line("  \(total) atoms read from \(c.arguments[0])")
  }

  /// `write_data FILE`: the system gathered on rank 0, sorted by id, written to a temporary file
  /// and renamed into place, so a failure never leaves a truncated data file.
  func writeData(_ c: Command) throws {
    try c.expectCount(1, 3, usage: "write_data FILE")
    let b = try requireBox(c)
    try execution.writeFile(c.arguments[0], command: c, self) { try writeData(b, c) }
  }

  private func writeData(_ b: Box, _ c: Command) throws {
    var failure: String?
    if let frame = gatherAtomsOnRoot() {
      var text = "LAMMPS data file via write_data, tessera, timestep = \(step), units = \(units.name)\n\n"
      text += "\(frame.count) atoms\n\(masses.typeCount) atom types\n\n"
      text += String(format: "%.16e %.16e xlo xhi\n%.16e %.16e ylo yhi\n%.16e %.16e zlo zhi\n", b.lo.x, b.hi.x, b.lo.y, b.hi.y, b.lo.z, b.hi.z)
      if b.isTriclinic { text += String(format: "%.16e %.16e %.16e xy xz yz\n", b.xy, b.xz, b.yz) }
      text += "\nMasses\n\n"
      for t in 1...masses.typeCount { text += String(format: "%d %.16g\n", t, masses.values[t]) }
      text += "\nAtoms # atomic\n\n"
      for i in 0..<frame.count {
        let x = frame.positions, m = frame.images
        text += String(format: "%lld %lld %.16e %.16e %.16e %lld %lld %lld\n", frame.ids[i], Int64(frame.types[i]),
                       x[3 * i], x[3 * i + 1], x[3 * i + 2], Int64(m[3 * i]), Int64(m[3 * i + 1]), Int64(m[3 * i + 2]))
      }
      text += "\nVelocities\n\n"
      for i in 0..<frame.count {
        let v = frame.velocities
        text += String(format: "%lld %.16e %.16e %.16e\n", frame.ids[i], v[3 * i], v[3 * i + 1], v[3 * i + 2])
      }
      do {
        try AtomicFile.write(text, to: c.arguments[0])
      } catch {
        failure = "\(error)"
      }
    }
    // Rank 0 alone knows whether the write worked; share it so every rank stops together.
    if comm.any(failure != nil) { throw c.error(failure ?? "write failed on rank 0") }
  }
}
