import Atoms
import Foundation
import Geometry
import InputDeck
import Output

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
    guard !validateOnly else { return }
    let width = 11
    var mine: [Double] = []
    mine.reserveCapacity(width * atoms.ownedCount)
    for i in 0..<atoms.ownedCount {
      let x = atoms.positionOf(i), v = atoms.velocityOf(i), m = atoms.imageOf(i)
      mine += [Double(atoms.tag[i]), Double(atoms.type[i]), x.x, x.y, x.z, Double(m.x), Double(m.y), Double(m.z), v.x, v.y, v.z]
    }
    let all = comm.gather(mine, root: 0)
    var failure: String?
    if comm.isRoot {
      let count = all.count / width
      let order = (0..<count).sorted { all[width * $0] < all[width * $1] }
      var text = "LAMMPS data file via write_data, tessera, timestep = \(step), units = \(units.name)\n\n"
      text += "\(count) atoms\n\(masses.typeCount) atom types\n\n"
      text += String(format: "%.16e %.16e xlo xhi\n%.16e %.16e ylo yhi\n%.16e %.16e zlo zhi\n", b.lo.x, b.hi.x, b.lo.y, b.hi.y, b.lo.z, b.hi.z)
      if b.isTriclinic { text += String(format: "%.16e %.16e %.16e xy xz yz\n", b.xy, b.xz, b.yz) }
      text += "\nMasses\n\n"
      for t in 1...masses.typeCount { text += String(format: "%d %.16g\n", t, masses.values[t]) }
      text += "\nAtoms # atomic\n\n"
      for k in order {
        let r = all[width * k..<width * (k + 1)].map { $0 }
        text += String(format: "%lld %lld %.16e %.16e %.16e %lld %lld %lld\n", Int64(r[0]), Int64(r[1]), r[2], r[3], r[4],
                       Int64(r[5]), Int64(r[6]), Int64(r[7]))
      }
      text += "\nVelocities\n\n"
      for k in order {
        let r = all[width * k..<width * (k + 1)].map { $0 }
        text += String(format: "%lld %.16e %.16e %.16e\n", Int64(r[0]), r[8], r[9], r[10])
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

/// Writes a file through a temporary sibling, flushed to disk, then renamed over the target: readers
/// see the old file or the new one, never a partial one.
enum AtomicFile {
  static func write(_ text: String, to path: String) throws { try write(Data(text.utf8), to: path) }

  static func write(_ contents: Data, to path: String) throws {
    let temporary = path + ".tmp.\(getpid())"
    guard FileManager.default.createFile(atPath: temporary, contents: nil),
          let handle = FileHandle(forWritingAtPath: temporary) else {
      throw OutputFailure("cannot create '\(temporary)' (\(DeckReaderReason.reason((path as NSString).deletingLastPathComponent.isEmpty ? "." : (path as NSString).deletingLastPathComponent)))")
    }
    do {
      try handle.write(contentsOf: contents)
      try handle.synchronize()
      try handle.close()
    } catch {
      try? handle.close()
      unlink(temporary)
      throw OutputFailure("cannot write '\(path)': \(writeFailureReason(error))")
    }
    guard rename(temporary, path) == 0 else {
      unlink(temporary)
      throw OutputFailure("cannot rename '\(temporary)' to '\(path)'")
    }
  }
}

struct OutputFailure: Error, CustomStringConvertible {
  let description: String
  init(_ description: String) { self.description = description }
}
