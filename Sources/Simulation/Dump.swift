import Communication
import Foundation
import H5MD
import NetCDF
import Output
import Trajectory

/// One `dump` command: what to write, where, and how often. Text dumps gather every atom on the rank
/// that writes the file (rank 0, or the first of each `%` file's ranks); h5md and netcdf/mpiio dumps write
/// each rank's rows collectively. A name ending in `.bin` makes an atom or custom dump LAMMPS's binary layout.
final class Dump: Writer {
  let id: String
  let style: DumpStyle
  var every: Int
  /// File name; `*` is replaced by the step (one file per frame), `%` by the file group (one file per
  /// group of ranks).
  let pattern: String
  /// With `%`: the number of files (LAMMPS `dump_modify nfile`; one per rank by default) or the ranks per
  /// file (`fileper`), and the ranks of this rank's file once split off for the first frame.
  var fileGrouping = FileGrouping.perRank
  var fileGroupComm: Communicator?
  /// Column names as given (`c_pe` stays `c_pe`), for the `ITEM: ATOMS` header.
  let names: [String]
  var sortByID = true
  var append = false
  var elements: [String] = []
  var format = DumpNumberFormat()
  /// An h5md dump's elements, and its file once the first frame has created it.
  var h5mdLayout: H5MDLayout?
  var h5mdWriter: H5MDWriter?
  /// A netcdf dump's `dump_modify double|append|at`, the run's unit style and timestep (recorded in the
  /// file), and the file once the first frame has created it.
  var netcdfDouble = false
  var netcdfAt: Int?
  /// `dump_modify thermo yes`: the run's thermo columns as per-frame variables, with the values of a row
  /// at a step (set by each run).
  var netcdfThermo = false
  var thermoRow: (columns: [ThermoColumn], values: (OutputStep) throws -> [Double])?
  private var thermoHeaders: [String] = []
  var units = "lj"
  var timestep = 0.005
  var trajectory: AmberTrajectory?
  private var rowIndex: RowIndex?
  private var netcdfAtomCount = 0
  /// The step of the last frame written, so a run's setup does not repeat it.
  var lastStep: Int?
  private var opened = false
  /// Recorded as the creator's version in h5md files.
  private let creatorVersion: String

  init(id: String, style: DumpStyle, every: Int, pattern: String, names: [String], creatorVersion: String) {
    self.id = id
    self.style = style
    self.every = every
    self.pattern = pattern
    self.names = names
    self.creatorVersion = creatorVersion
  }

  /// A run's setup does not repeat the frame of a step already written.
  func isDue(at step: Int, isSetup: Bool) -> Bool { step % every == 0 && lastStep != step }

  var needs: WriterNeeds { needsEnergies ? .perAtomEnergy : [] }

  /// Writes the frame; a write failure on any rank stops every rank with the path in the message.
  func write(_ output: OutputStep) throws {
    if h5mdLayout != nil { return try writeH5MD(output) }
    if case .netcdf(let fields, let parallel) = style { return try writeNetCDF(output, fields, parallel: parallel) }
    let comm = output.comm
    let file = filePerRankGroup ? fileGrouping.file(of: comm.rank, size: comm.size) : 0
    if filePerRankGroup && fileGroupComm == nil { fileGroupComm = comm.split(color: file) }
    let writers = fileGroupComm ?? comm
    let gathered = writers.gather(output.packedOwnedAtoms(), root: 0)
    var failure = ""
    if writers.isRoot {
      let snapshot = GatheredAtoms(step: output.step, box: output.box, packed: gathered,
                                   hasEnergies: output.forces.perAtomEnergies != nil, sortByID: sortByID)
      do { try write(snapshot, group: file) } catch { failure = "\(error)" }
    }
    lastStep = output.step
    // Any writing rank may have failed; every rank stops with the first failure's message.
    if comm.any(!failure.isEmpty) {
      let messages = comm.allGatherBytes(Array(failure.utf8)).map { String(decoding: $0, as: UTF8.self) }
      throw RunError(messages.first { !$0.isEmpty }!)
    }
  }

  /// Every rank writes its own atoms' rows of the frame (the file is created at the first frame); a
  /// failure on any rank stops every rank, with the path in the message, and closes the file.
  private func writeH5MD(_ output: OutputStep) throws {
    var failure: String?
    do {
      if h5mdWriter == nil {
        h5mdWriter = try H5MDWriter(path: pattern, layout: h5mdLayout!, comm: output.comm, atoms: output.atoms,
                                    box: output.box, creator: "Tessera", creatorVersion: creatorVersion)
      }
      try h5mdWriter!.write(step: output.step, time: output.time, box: output.box, atoms: output.atoms, dumpEvery: every)
    } catch {
      failure = "dump \(id): \(error)"
    }
    lastStep = output.step
    if output.comm.any(failure != nil) {
      finish()
      throw RunError(failure ?? "dump \(id): the h5md file could not be written (see rank 0)")
    }
  }

  /// netcdf: every atom gathered on rank 0, which writes the file through NetCDF; netcdf/mpiio: every rank
  /// writes its own atoms (sorted by id, in the rows of their ids) collectively through PnetCDF.
  private func writeNetCDF(_ output: OutputStep, _ fields: [DumpField], parallel: Bool) throws {
    let comm = output.comm
    let hasEnergies = output.forces.perAtomEnergies != nil
    var failure: String?
    do {
      let total = comm.allReduce(output.atoms.ownedCount, .sum)
      let thermo = netcdfThermo ? try thermoRow!.values(output) : []
      if trajectory != nil && netcdfThermo && thermoRow!.columns.map(\.header) != thermoHeaders {
        throw DumpError("the thermo columns changed since the netcdf file was created (thermo yes keeps them)")
      }
      if parallel {
        let mine = GatheredAtoms(step: output.step, box: output.box, packed: output.packedOwnedAtoms(),
                                 hasEnergies: hasEnergies, sortByID: true)
        if trajectory == nil {
          do {
            rowIndex = try mine.ids.withUnsafeBufferPointer { try RowIndex(ids: $0, total: total, comm: comm) }
          } catch {
            throw DumpError("dump \(id): \(pattern): \(error)")
          }
          trajectory = try openTrajectory(.parallel, fields, atomCount: total, isWriter: comm.isRoot)
        }
        try checkCount(total)
        let rows = RowRun.covering(mine.ids.lazy.map { self.rowIndex!.row(of: $0) })
        try trajectory!.write(step: output.step, box: output.box, atoms: mine, runs: rows, thermo: thermo)
      } else {
        let gathered = comm.gather(output.packedOwnedAtoms(), root: 0)
        if comm.isRoot {
          let all = GatheredAtoms(step: output.step, box: output.box, packed: gathered, hasEnergies: hasEnergies,
                                  sortByID: true)
          if trajectory == nil { trajectory = try openTrajectory(.serial, fields, atomCount: total, isWriter: true) }
          try checkCount(total)
          try trajectory!.write(step: output.step, box: output.box, atoms: all,
                                runs: [RowRun(start: 0, length: all.count)], thermo: thermo)
        }
      }
    } catch {
      failure = "dump \(id): \(error)"
    }
    lastStep = output.step
    if comm.any(failure != nil) {
      finish()
      let messages = comm.allGatherBytes(Array((failure ?? "").utf8)).map { String(decoding: $0, as: UTF8.self) }
      throw RunError(messages.first { !$0.isEmpty }!)
    }
  }

  private func openTrajectory(_ library: AmberTrajectory.Library, _ fields: [DumpField], atomCount: Int,
                              isWriter: Bool) throws -> AmberTrajectory {
    if netcdfAt != nil && !append { throw DumpError("dump_modify at needs 'append yes'") }
    var layout = try AmberLayout(fields: fields, names: names)
    layout.doublePrecision = netcdfDouble
    netcdfAtomCount = atomCount
    let thermo = netcdfThermo ? thermoRow!.columns : []
    thermoHeaders = thermo.map(\.header)
    return try AmberTrajectory(path: pattern, library: library, layout: layout, thermo: thermo, atomCount: atomCount,
                               start: append ? .append(at: netcdfAt) : .create, units: units, timestep: timestep,
                               program: "Tessera", programVersion: creatorVersion, isWriter: isWriter)
  }

  private func checkCount(_ total: Int) throws {
    guard total == netcdfAtomCount else {
      throw DumpError("the number of atoms changed from \(netcdfAtomCount) to \(total); a netcdf dump needs a constant count")
    }
  }

  func finish() {
    h5mdWriter?.close()
    h5mdWriter = nil
    trajectory?.close()
    trajectory = nil
  }

  var isNetCDF: Bool {
    if case .netcdf = style { return true }
    return false
  }

  var oneFilePerFrame: Bool { pattern.contains("*") }
  var filePerRankGroup: Bool { pattern.contains("%") }

  /// The file a frame goes to: `*` → step, `%` → this rank's file group.
  func path(step: Int, group: Int) -> String {
    pattern.replacingOccurrences(of: "*", with: "\(step)").replacingOccurrences(of: "%", with: "\(group)")
  }

  var needsEnergies: Bool {
    switch style {
    case .custom(let fields): return fields.contains(.energy)
    case .extendedXYZ: return true
    case .netcdf(let fields, _): return fields.contains(.energy)
    case .atom, .xyz, .h5md: return false
    }
  }

  func text(_ frame: GatheredAtoms) -> String {
    switch style {
    case .atom: return frame.formatted([.id, .type, .xs, .ys, .zs], names: ["id", "type", "xs", "ys", "zs"],
                                       elements: elements, format: format)
    case .custom(let fields): return frame.formatted(fields, names: names, elements: elements, format: format)
    case .xyz: return frame.formattedXYZ(elements: elements, format: format)
    case .extendedXYZ: return ExtendedXYZ.format([extendedXYZ(frame)])
    case .h5md, .netcdf: preconditionFailure("h5md and netcdf frames are written through their own writers")
    }
  }

  /// LAMMPS's binary layout for names ending in `.bin` (atom and custom dumps).
  var isBinary: Bool {
    switch style {
    case .atom, .custom: return pattern.hasSuffix(".bin")
    default: return false
    }
  }

  func binary(_ frame: GatheredAtoms) -> [UInt8] {
    switch style {
    case .custom(let fields): return frame.binary(fields, columns: names.joined(separator: " "), magic: "DUMPCUSTOM")
    default: return frame.binary([.id, .type, .xs, .ys, .zs], columns: "id type xs ys zs", magic: "DUMPATOM")
    }
  }

  /// Lattice, pbc, species, positions, velocities, forces and (when computed) energies, as ASE reads them.
  private func extendedXYZ(_ frame: GatheredAtoms) -> ExtendedXYZFrame {
    let b = frame.box
    let lattice = [b.length.x, 0, 0, b.xy, b.length.y, 0, b.xz, b.yz, b.length.z]
    // Positions relative to the box origin, so the cell starts at 0 as ASE assumes.
    var positions = frame.positions
    for i in 0..<frame.count {
      for c in 0..<3 { positions[3 * i + c] -= b.lo[c] }
    }
    var arrays: [ExtendedXYZProperty] = [
      .init(name: "id", width: 1, values: .integers(frame.ids.map { Int($0) })),
      .init(name: "velocities", width: 3, values: .reals(frame.velocities)),
      .init(name: "forces", width: 3, values: .reals(frame.forces)),
    ]
    var info: ExtendedXYZInfo = ["step": .integer(frame.step)]
    if let energies = frame.energies {
      arrays.append(.init(name: "energies", width: 1, values: .reals(energies)))
      info["energy"] = .double(energies.reduce(0, +))
    }
    return ExtendedXYZFrame(species: frame.types.map { frame.element(Int($0), elements) }, positions: positions,
                            lattice: lattice, pbc: b.periodic, info: info, arrays: arrays)
  }

  /// Writes a frame: a file of its own (through a temporary file and a rename), or appended to
  /// the dump's file in one write, so an interrupted job leaves only whole frames.
  private func write(_ frame: GatheredAtoms, group: Int) throws {
    let contents = isBinary ? Data(binary(frame)) : Data(text(frame).utf8)
    let path = path(step: frame.step, group: group)
    if oneFilePerFrame {
      try contents.withUnsafeBytes { try AtomicFile.write(contentsOf: $0, to: path) }
      return
    }
    if !opened && !append {
      guard FileManager.default.createFile(atPath: path, contents: nil) else {
        throw DumpError("dump \(id): cannot create '\(path)'")
      }
    }
    opened = true
    guard let handle = FileHandle(forWritingAtPath: path) ?? createAndOpen(path) else {
      throw DumpError("dump \(id): cannot open '\(path)' for writing")
    }
    defer { try? handle.close() }
    var end: UInt64 = 0
    do {
      end = try handle.seekToEnd()
      try handle.write(contentsOf: contents)
    } catch {
      // A frame cut short by a full disk is removed: the file keeps only whole frames.
      try? handle.truncate(atOffset: end)
      throw DumpError("dump \(id): writing '\(path)' failed: \(writeFailureReason(error))")
    }
  }

  private func createAndOpen(_ path: String) -> FileHandle? {
    FileManager.default.createFile(atPath: path, contents: nil) ? FileHandle(forWritingAtPath: path) : nil
  }
}

/// How `%` dumps group ranks into files, as LAMMPS's `dump_modify nfile|fileper`.
enum FileGrouping: Equatable {
  case perRank
  case files(Int)
  case ranksPerFile(Int)

  /// The file (its number, which replaces `%`) that `rank` of `size` ranks writes to; the first rank of
  /// each group writes it. LAMMPS's arithmetic: `nfile` spreads ranks evenly over the files, `fileper`
  /// fills files with consecutive ranks.
  func file(of rank: Int, size: Int) -> Int {
    switch self {
    case .perRank: return rank
    case .files(let n): return rank * min(n, size) / size
    case .ranksPerFile(let p): return rank / p
    }
  }
}

struct DumpError: Error, CustomStringConvertible {
  let description: String
  init(_ description: String) { self.description = description }
}
