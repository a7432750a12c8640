import Foundation
import Output
import Trajectory

/// One `dump` command: what to write, where, and how often.
final class Dump {
  let id: String
  let style: DumpStyle
  var every: Int
  /// File name; `*` is replaced by the step (one file per frame).
  let pattern: String
  /// Column names as given (`c_pe` stays `c_pe`), for the `ITEM: ATOMS` header.
  let names: [String]
  var sortByID = true
  var append = false
  var elements: [String] = []
  var format = DumpNumberFormat()
  /// The step of the last frame written, so a run's setup does not repeat it.
  var lastStep: Int?
  private var opened = false

  init(id: String, style: DumpStyle, every: Int, pattern: String, names: [String]) {
    self.id = id
    self.style = style
    self.every = every
    self.pattern = pattern
    self.names = names
  }

  var oneFilePerFrame: Bool { pattern.contains("*") }

  var needsEnergies: Bool {
    switch style {
    case .custom(let fields): return fields.contains(.energy)
    case .extendedXYZ: return true
    case .atom, .xyz: return false
    }
  }

  func text(_ frame: DumpFrame) -> String {
    switch style {
    case .atom: return frame.formatted([.id, .type, .xs, .ys, .zs], names: ["id", "type", "xs", "ys", "zs"],
                                       elements: elements, format: format)
    case .custom(let fields): return frame.formatted(fields, names: names, elements: elements, format: format)
    case .xyz: return frame.formattedXYZ(elements: elements, format: format)
    case .extendedXYZ: return ExtendedXYZ.format([extendedXYZ(frame)])
    }
  }

  /// Lattice, pbc, species, positions, velocities, forces and (when computed) energies, as ASE reads them.
  private func extendedXYZ(_ frame: DumpFrame) -> ExtendedXYZFrame {
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
  func write(_ frame: DumpFrame) throws {
    let contents = text(frame)
    if oneFilePerFrame {
      try AtomicFile.write(contents, to: pattern.replacingOccurrences(of: "*", with: "\(frame.step)"))
      return
    }
    if !opened && !append {
      guard FileManager.default.createFile(atPath: pattern, contents: nil) else {
        throw DumpError("dump \(id): cannot create '\(pattern)'")
      }
    }
    opened = true
    guard let handle = FileHandle(forWritingAtPath: pattern) ?? createAndOpen() else {
      throw DumpError("dump \(id): cannot open '\(pattern)' for writing")
    }
    defer { try? handle.close() }
    var end: UInt64 = 0
    do {
      end = try handle.seekToEnd()
      try handle.write(contentsOf: Data(contents.utf8))
    } catch {
      // A frame cut short by a full disk is removed: the file keeps only whole frames.
      try? handle.truncate(atOffset: end)
      throw DumpError("dump \(id): writing '\(pattern)' failed: \(writeFailureReason(error))")
    }
  }

  private func createAndOpen() -> FileHandle? {
    FileManager.default.createFile(atPath: pattern, contents: nil) ? FileHandle(forWritingAtPath: pattern) : nil
  }
}

struct DumpError: Error, CustomStringConvertible {
  let description: String
  init(_ description: String) { self.description = description }
}
