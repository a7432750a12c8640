import Foundation
import InputDeck
import Output
import Trajectory

/// Periodic restart files (`restart N FILE [FILE2]`): a writer of every run, due every N steps inside
/// it (not at its setup), alternating between two files when given two.
final class RestartSchedule: Writer {
  let every: Int
  let files: [String]
  /// Which of two alternating files is next.
  private(set) var next = 0
  /// Writes the restart file at a path (set by the run: the whole state goes in, fixes included).
  var save: (String) throws -> Void = { _ in }

  init(every: Int = 0, files: [String] = []) {
    self.every = every
    self.files = files
  }

  func isDue(at step: Int, isSetup: Bool) -> Bool { !isSetup && every > 0 && step % every == 0 }

  /// The file due at `step` (`*` replaced by it).
  func path(at step: Int) -> String { files[next].replacingOccurrences(of: "*", with: "\(step)") }

  func write(_ output: OutputStep) throws {
    try save(path(at: output.step))
    next = (next + 1) % files.count
  }
}

extension Simulation {
  /// `write_restart FILE`: the current state, now.
  func writeRestartCommand(_ c: Command) throws {
    try c.expectCount(1, usage: "write_restart FILE")
    _ = try requireBox(c)
    try execution.writeFile(c.arguments[0], command: c, self) { try writeRestart(to: c.arguments[0]) }
  }

  /// `restart N FILE [FILE2]` (alternating between two files), or `restart 0` to stop. `*` in FILE
  /// becomes the step; a single FILE without `*` is FILE.STEP, one file per restart, as in LAMMPS.
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
    var files = Array(c.arguments.dropFirst())
    if files.count == 1 && !files[0].contains("*") { files[0] += ".*" }
    restarts = RestartSchedule(every: every, files: files)
  }

  /// Gathers every atom on rank 0, which writes the file through a temporary file, fsync and rename:
  /// the previous file at that path stays whole until the new one is complete. Fixes' per-atom
  /// states go in only `midRun`: between runs the next run's setup starts them afresh, as it would
  /// have without the restart.
  func writeRestart(to path: String, midRun: Bool = false) throws {
    let box = box!
    let perAtomFixes = midRun ? fixes.filter { $0.fix.restartValuesPerAtom > 0 } : []
    let fixValues = gatherPerAtomFixValuesOnRoot(perAtomFixes.map(\.fix))
    var failure = ""
    if let frame = gatherAtomsOnRoot() {
      let header = RestartFile.Header(
        units: units.name, step: step, elapsedTime: system.clock.timeOrigin, timeOriginStep: system.clock.timeOriginStep,
        timestep: timestep ?? units.defaultTimestep,
        boxLo: [box.lo.x, box.lo.y, box.lo.z], boxLength: [box.length.x, box.length.y, box.length.z],
        tilts: [box.xy, box.xz, box.yz], periodic: box.periodic, triclinic: box.isTriclinic,
        masses: Array(masses.values), atomCount: frame.count,
        fixes: fixes.map {
          RestartFile.FixRecord(id: $0.id, style: setup.fixStyles[$0.id] ?? "", state: $0.fix.restartState,
                                perAtom: midRun && $0.fix.restartValuesPerAtom > 0 ? $0.fix.restartValuesPerAtom : nil)
        },
        forceField: setup.forceFieldDescription, modelChecksum: setup.modelChecksum,
        processorGrid: [grid!.counts.x, grid!.counts.y, grid!.counts.z])
      let file = RestartFile(header: header, ids: frame.ids, types: frame.types, images: frame.images,
                             positions: frame.positions, velocities: frame.velocities, fixValues: fixValues)
      do {
        try file.encoded().withUnsafeBytes { try AtomicFile.write(contentsOf: $0, to: path) }
      } catch {
        failure = "write_restart: \(error)"
      }
    }
    if comm.allReduce(failure.isEmpty ? 0 : 1, .max) > 0 {
      throw RunError(comm.isRoot ? failure : "a restart file could not be written (see rank 0)")
    }
    // A run's periodic restarts are silent, as LAMMPS's: a line inside the thermo table would break
    // the log parsers that read it (dpdata, dpgen2, pizza's log.py).
    if !midRun { console.line("Restart file \(path) written at step \(step)") }
  }

  /// `read_restart FILE`: box, masses, atoms (each rank keeps its brick's), step and time; fix states
  /// wait for the deck to define the same fixes again, the force field must be defined again. A `*`
  /// in FILE stands for the largest step among the files that match (LAMMPS's `file_search`).
  func readRestart(_ c: Command) throws {
    try c.expectCount(1, usage: "read_restart FILE")
    if box != nil { throw c.error("the box is already defined") }
    let path = try latestRestart(matching: c.arguments[0], c)
    let file: RestartFile
    do { file = try RestartFile(path: path) } catch { throw c.error("\(error)") }
    let header = file.header
    guard header.units == units.name else {
      throw c.error("the restart was written with units \(header.units), the deck uses \(units.name)")
    }
    periodic = header.periodic
    var sameGrid: SIMD3<Int>?
    if requestedGrid == .zero, let saved = header.processorGrid, saved.count == 3, saved.reduce(1, *) == comm.size {
      sameGrid = SIMD3(saved[0], saved[1], saved[2])
    }
    try defineBox(file.box, typeCount: header.masses.count - 1, c, grid: sameGrid)
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
    system.clock.timeOrigin = header.elapsedTime
    system.clock.timeOriginStep = header.timeOriginStep ?? header.step
    timestep = header.timestep ?? timestep
    pendingFixStates = Dictionary(header.fixes.map { ($0.id, $0) }, uniquingKeysWith: { $1 })
    pendingPerAtomStates = [:]
    let width = file.perAtomWidth
    var column = 0
    for record in header.fixes {
      guard let count = record.perAtom, count > 0 else { continue }
      var values: [Int64: ArraySlice<Double>] = [:]
      values.reserveCapacity(file.ids.count)
      for i in file.ids.indices {
        values[file.ids[i]] = file.fixValues[(width * i + column)..<(width * i + column + count)]
      }
      pendingPerAtomStates[record.id] = values
      column += count
    }
    expectedModelChecksum = header.modelChecksum
    restoredFromRestart = true
    console.line("  \(header.atomCount) atoms at step \(header.step) read from \(path) (force field was: \(header.forceField))")
  }
}

extension Simulation {
  /// The path itself without `*`; with `*`, the file of that pattern in its folder whose `*` part is
  /// the largest whole number.
  func latestRestart(matching pattern: String, _ c: Command) throws -> String {
    guard let star = pattern.firstIndex(of: "*") else { return pattern }
    let url = URL(fileURLWithPath: pattern)
    let folder = url.deletingLastPathComponent().path
    let name = url.lastPathComponent
    guard pattern.filter({ $0 == "*" }).count == 1, let nameStar = name.firstIndex(of: "*") else {
      throw c.error("expected one '*', in the file name (not the folder): '\(pattern)'")
    }
    let prefix = name[..<nameStar], suffix = name[name.index(after: nameStar)...]
    let entries = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
    let steps = entries.compactMap { entry -> Int? in
      guard entry.count > prefix.count + suffix.count, entry.hasPrefix(prefix), entry.hasSuffix(suffix) else { return nil }
      let middle = entry.dropFirst(prefix.count).dropLast(suffix.count)
      return middle.allSatisfy(\.isNumber) ? Int(middle) : nil
    }
    guard let latest = steps.max() else { throw c.error("no restart file matches '\(pattern)' in \(folder)") }
    return pattern.replacingCharacters(in: star...star, with: String(latest))
  }
}
