import Communication
import Foundation
import H5MD
import Output
import Trajectory

/// One `dump` command: what to write, where, and how often. Text dumps gather every atom on the rank
/// that writes the file (rank 0, or the first of each `%` file's ranks); h5md dumps write each rank's
/// rows collectively.
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

  func finish() {
    h5mdWriter?.close()
    h5mdWriter = nil
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
    case .h5md: preconditionFailure("h5md frames are written by every rank through H5MDWriter")
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
    let contents = text(frame)
    let path = path(step: frame.step, group: group)
    if oneFilePerFrame {
      try AtomicFile.write(contents, to: path)
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
      try handle.write(contentsOf: Data(contents.utf8))
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
