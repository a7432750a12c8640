import Foundation
import InputDeck

/// Periodic restart files (`restart N FILE [FILE2]`).
struct RestartSchedule {
  var every = 0
  var files: [String] = []
  /// Which of two alternating files is next.
  var next = 0

  func isDue(at step: Int) -> Bool { every > 0 && step % every == 0 }
}

extension Simulation {
  /// `write_restart FILE`: the current state, now.
  func writeRestartCommand(_ c: Command) throws {
    try c.expectCount(1, usage: "write_restart FILE")
    _ = try requireBox(c)
    guard !validateOnly else {
      console.line("write_restart \(c.arguments[0]) at step \(step)")
      return
    }
    try writeRestart(to: c.arguments[0])
  }

  /// `restart N FILE [FILE2]` (alternating between two files), or `restart 0` to stop. `*` in FILE
  /// becomes the step.
  func restartCommand(_ c: Command) throws {
    try c.expectCount(1, 3, usage: "restart N FILE [FILE2] | restart 0")
    let every = try c.integer(0, "restart interval")
    guard every >= 0 else { throw c.error("restart interval must be non-negative, got \(every)") }
    if every == 0 {
      try c.expectCount(1, usage: "restart 0")
      restarts = RestartSchedule()
      return
    }
    try c.expectCount(2, 3, usage: "restart N FILE [FILE2]")
    restarts = RestartSchedule(every: every, files: Array(c.arguments.dropFirst()))
  }

  /// Writes the file due at this step of a run and switches to the other of two alternating files.
  func writePeriodicRestart() throws {
    guard !restarts.files.isEmpty else { return }
    let path = restarts.files[restarts.next].replacingOccurrences(of: "*", with: "\(step)")
    try writeRestart(to: path)
    restarts.next = (restarts.next + 1) % restarts.files.count
  }

  /// Gathers every atom on rank 0, which writes the file through a temporary file, fsync and rename:
  /// the previous file at that path stays whole until the new one is complete.
  func writeRestart(to path: String) throws {
    let box = box!
    var mine: [Double] = []
    mine.reserveCapacity(11 * atoms.ownedCount)
    for i in 0..<atoms.ownedCount {
      let x = atoms.positionOf(i), v = atoms.velocityOf(i), m = atoms.imageOf(i)
      mine += [Double(atoms.tag[i]), Double(atoms.type[i]), Double(m.x), Double(m.y), Double(m.z)]
      mine += [x.x, x.y, x.z, v.x, v.y, v.z]
    }
    let all = comm.gather(mine, root: 0)
    var failure = ""
    if comm.isRoot {
      let n = all.count / 11
      let order = (0..<n).sorted { all[11 * $0] < all[11 * $1] }
      let header = RestartFile.Header(
        units: units.name, step: step, elapsedTime: currentTime,
        boxLo: [box.lo.x, box.lo.y, box.lo.z], boxLength: [box.length.x, box.length.y, box.length.z],
        tilts: [box.xy, box.xz, box.yz], periodic: box.periodic, triclinic: box.isTriclinic,
        masses: Array(masses.values), atomCount: n,
        fixes: fixes.map { RestartFile.FixRecord(id: $0.id, style: fixStyles[$0.id] ?? "", state: $0.fix.restartState) },
        forceField: forceFieldDescription, modelChecksum: modelChecksum)
      let file = RestartFile(
        header: header, ids: order.map { Int64(all[11 * $0]) }, types: order.map { Int32(all[11 * $0 + 1]) },
        images: order.flatMap { k in (2...4).map { Int32(all[11 * k + $0]) } },
        positions: order.flatMap { k in (5...7).map { all[11 * k + $0] } },
        velocities: order.flatMap { k in (8...10).map { all[11 * k + $0] } })
      do {
        try AtomicFile.write(try file.encoded(), to: path)
      } catch {
        failure = "write_restart: \(path): \(error)"
      }
    }
    if comm.allReduce(failure.isEmpty ? 0 : 1, .max) > 0 {
      throw RunError(comm.isRoot ? failure : "a restart file could not be written (see rank 0)")
    }
    console.line("Restart file \(path) written at step \(step)")
  }

  /// `read_restart FILE`: box, masses, atoms (each rank keeps its brick's), step and time; fix states
  /// wait for the deck to define the same fixes again, the force field must be defined again.
  func readRestart(_ c: Command) throws {
    try c.expectCount(1, usage: "read_restart FILE")
    if box != nil { throw c.error("the box is already defined") }
    let file: RestartFile
    do { file = try RestartFile(path: c.arguments[0]) } catch { throw c.error("\(error)") }
    let header = file.header
    guard header.units == units.name else {
      throw c.error("the restart was written with units \(header.units), the deck uses \(units.name)")
    }
    periodic = header.periodic
    try defineBox(file.box, typeCount: header.masses.count - 1, c)
    for t in 1..<header.masses.count where header.masses[t] > 0 { masses.set(type: t, mass: header.masses[t]) }
    let box = box!, grid = grid!
    for i in file.ids.indices {
      let x = SIMD3(file.positions[3 * i], file.positions[3 * i + 1], file.positions[3 * i + 2])
      guard grid.owner(ofFractional: box.fractional(x)) == grid.rank else { continue }
      atoms.appendOwned(tag: file.ids[i], type: file.types[i], position: x,
                        velocity: SIMD3(file.velocities[3 * i], file.velocities[3 * i + 1], file.velocities[3 * i + 2]),
                        image: SIMD3(file.images[3 * i], file.images[3 * i + 1], file.images[3 * i + 2]))
    }
    atomCount = header.atomCount
    step = header.step
    elapsedTime = header.elapsedTime
    pendingFixStates = Dictionary(header.fixes.map { ($0.id, $0) }, uniquingKeysWith: { $1 })
    expectedModelChecksum = header.modelChecksum
    restoredFromRestart = true
    console.line("  \(header.atomCount) atoms at step \(header.step) read from \(c.arguments[0]) (force field was: \(header.forceField))")
  }
}
