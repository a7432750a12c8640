import Foundation
import InputDeck
import Output

extension Simulation {
  /// `compute ID all pe/atom`: per-atom potential energy, for `c_ID` in dumps.
  func compute(_ c: Command) throws {
    try c.expectCount(3, usage: "compute ID all pe/atom")
    guard c.arguments[1] == "all" else { throw c.error("only the group 'all' is supported") }
    guard c.arguments[2] == "pe/atom" else { throw c.error("unsupported compute style '\(c.arguments[2])' (pe/atom)") }
    energyComputes.insert(c.arguments[0])
  }

  /// `dump ID all atom|custom|xyz|extxyz N FILE [fields…]`.
  func dump(_ c: Command) throws {
    try c.expectCount(5, Int.max, usage: "dump ID all STYLE N FILE [fields…]")
    _ = try requireBox(c)
    guard c.arguments[1] == "all" else { throw c.error("only the group 'all' is supported") }
    let id = c.arguments[0]
    guard !dumps.contains(where: { $0.id == id }) else { throw c.error("dump '\(id)' already exists (undump it first)") }
    let every = try c.positiveInteger(3, "dump interval")
    let file = c.arguments[4]
    let style: DumpStyle
    var names: [String] = []
    switch c.arguments[2] {
    case "atom": style = .atom
    case "xyz": style = .xyz
    case "extxyz": style = .extendedXYZ
    case "custom":
      names = Array(c.arguments.dropFirst(5))
      guard !names.isEmpty else { throw c.error("dump custom needs at least one field") }
      style = .custom(try names.map { name in
        if name.hasPrefix("c_") {
          guard energyComputes.contains(String(name.dropFirst(2))) else {
            throw c.error("'\(name)': no compute '\(name.dropFirst(2))' of style pe/atom")
          }
          return .energy
        }
        guard let field = DumpField(rawValue: name), field != .energy else {
          throw c.error("unknown dump custom field '\(name)' (id type element mass x y z xs ys zs xu yu zu ix iy iz vx vy vz fx fy fz c_ID)")
        }
        return field
      })
    case let other: throw c.error("unsupported dump style '\(other)' (atom, custom, xyz, extxyz)")
    }
    if names.isEmpty { try c.expectCount(5, usage: "dump ID all \(c.arguments[2]) N FILE") }
    if file.contains("%") { throw c.error("'%' (one file per rank group) is not supported in dump file names") }
    dumps.append(Dump(id: id, style: style, every: every, pattern: file, names: names))
  }

  /// `dump_modify ID sort id|off, element E…, every N, append yes|no, format int|float|line F`.
  func dumpModify(_ c: Command) throws {
    try c.expectCount(3, Int.max, usage: "dump_modify ID KEYWORD VALUE …")
    guard let dump = dumps.first(where: { $0.id == c.arguments[0] }) else { throw c.error("no dump with ID '\(c.arguments[0])'") }
    var i = 1
    while i < c.arguments.count {
      switch c.arguments[i] {
      case "sort":
        switch try c.word(i + 1, "sort") {
        case "id": dump.sortByID = true
        case "off": dump.sortByID = false
        case let w: throw c.error("dump_modify sort: expected id or off, got '\(w)'")
        }
        i += 2
      case "every":
        dump.every = try c.positiveInteger(i + 1, "every")
        i += 2
      case "append":
        dump.append = try c.yesNo(i + 1, "append")
        i += 2
      case "element":
        let names = Array(c.arguments[(i + 1)...].prefix(masses.typeCount))
        guard names.count == masses.typeCount else {
          throw c.error("dump_modify element: expected \(masses.typeCount) names (one per atom type), got \(names.count)")
        }
        dump.elements = names
        i += 1 + names.count
      case "format":
        let kind = try c.word(i + 1, "format kind")
        switch kind {
        case "int": dump.format.integer = try c.word(i + 2, "format")
        case "float": dump.format.float = try c.word(i + 2, "format")
        case "line":
          dump.format.line = try c.word(i + 2, "format").split(separator: " ").map(String.init)
        case "none": dump.format = DumpNumberFormat()
        default: throw c.error("dump_modify format: expected int, float, line or none, got '\(kind)'")
        }
        try validate(dump.format, c)
        i += kind == "none" ? 2 : 3
      case let w: throw c.error("unknown dump_modify keyword '\(w)' (sort, every, append, element, format)")
      }
    }
  }

  /// Printf formats are checked here so that a bad one fails at the command, not at a frame.
  private func validate(_ format: DumpNumberFormat, _ c: Command) throws {
    func conversions(_ f: String) -> [Character] {
      var result: [Character] = []
      var chars = Array(f)[...]
      while let p = chars.firstIndex(of: "%") {
        chars = chars[(p + 1)...]
        if chars.first == "%" { chars = chars.dropFirst(); continue }
        guard let k = chars.firstIndex(where: { "diouxXeEfgGs".contains($0) }) else { result.append("?"); break }
        result.append(chars[k])
        chars = chars[(k + 1)...]
      }
      return result
    }
    guard conversions(format.integer).allSatisfy({ "dioxX".contains($0) }), conversions(format.integer).count == 1 else {
      throw c.error("dump_modify format int: expected one integer conversion like %d, got '\(format.integer)'")
    }
    guard conversions(format.float).allSatisfy({ "eEfgG".contains($0) }), conversions(format.float).count == 1 else {
      throw c.error("dump_modify format float: expected one floating-point conversion like %g, got '\(format.float)'")
    }
    for f in format.line ?? [] where conversions(f).count != 1 {
      throw c.error("dump_modify format line: each column needs one conversion, got '\(f)'")
    }
  }

  func undump(_ c: Command) throws {
    try c.expectCount(1, usage: "undump ID")
    guard let index = dumps.firstIndex(where: { $0.id == c.arguments[0] }) else { throw c.error("no dump with ID '\(c.arguments[0])'") }
    dumps.remove(at: index)
  }

  /// Dumps due at this step.
  func dumpsDue() -> [Dump] { dumps.filter { step % $0.every == 0 && $0.lastStep != step } }

  /// Gathers every atom on rank 0 and writes the frame of each due dump there; a write failure
  /// stops every rank with the path in the message.
  func writeDumps(_ due: [Dump], energies: [Double]?) throws {
    guard !due.isEmpty, !validateOnly else { return }
    var mine: [Double] = []
    mine.reserveCapacity(DumpFrame.packedWidth * atoms.ownedCount)
    for i in 0..<atoms.ownedCount {
      DumpFrame.pack(id: atoms.tag[i], type: atoms.type[i], position: atoms.positionOf(i), image: atoms.imageOf(i),
                     velocity: atoms.velocityOf(i), force: atoms.forceOf(i), energy: energies?[i] ?? 0,
                     mass: masses[atoms.type[i]], into: &mine)
    }
    let all = comm.gather(mine, root: 0)
    var failure = ""
    if comm.isRoot {
      for dump in due {
        let frame = DumpFrame(step: step, box: box!, packed: all, hasEnergies: energies != nil, sortByID: dump.sortByID)
        do { try dump.write(frame) } catch { failure = "\(error)" }
      }
    }
    for dump in due { dump.lastStep = step }
    if comm.allReduce(failure.isEmpty ? 0 : 1, .max) > 0 {
      throw RunError(comm.isRoot ? failure : "a dump could not be written (see rank 0)")
    }
  }
}
