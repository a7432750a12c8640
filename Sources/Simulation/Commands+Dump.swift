import Foundation
import H5MD
import InputDeck
import NetCDF
import Output

/// What a dump style's parser makes of its arguments.
struct DumpSpecification {
  var style: DumpStyle
  /// Column names as given, for `ITEM: ATOMS` (custom dumps).
  var names: [String]
  var layout: H5MDLayout?

  /// A style whose frames have fixed columns: nothing may follow the file name.
  init(plain style: DumpStyle, _ c: Command) throws {
    try c.expectCount(5, usage: "dump ID all \(c.arguments[2]) N FILE")
    self.init(style: style, names: [], layout: nil)
  }

  init(style: DumpStyle, names: [String], layout: H5MDLayout?) {
    self.style = style
    self.names = names
    self.layout = layout
  }
}

extension Simulation {
  /// `compute ID all pe/atom`: per-atom potential energy, for `c_ID` in dumps.
  func compute(_ c: Command) throws {
    try c.expectCount(3, usage: "compute ID all pe/atom")
    guard c.arguments[1] == "all" else { throw c.error("only the group 'all' is supported") }
    guard c.arguments[2] == "pe/atom" else { throw c.error("unsupported compute style '\(c.arguments[2])' (pe/atom)") }
    setup.energyComputes.insert(c.arguments[0])
  }

  /// Every dump style, by name, with the parser of its words after `dump ID all STYLE N FILE`; in the
  /// order errors list them. A new style is its formatter (DumpStyle, Dump) and one row.
  nonisolated(unsafe) static let dumpStyleTable: KeyValuePairs<String, (Simulation, Command) throws -> DumpSpecification> = [
    "atom": { _, c in try DumpSpecification(plain: .atom, c) },
    "custom": { simulation, c in try simulation.customDump(c) },
    "xyz": { _, c in try DumpSpecification(plain: .xyz, c) },
    "extxyz": { _, c in try DumpSpecification(plain: .extendedXYZ, c) },
    "h5md": { simulation, c in try simulation.h5mdDump(c) },
    "netcdf": { simulation, c in try simulation.netcdfDump(c, parallel: false) },
    "netcdf/mpiio": { simulation, c in try simulation.netcdfDump(c, parallel: true) },
  ]

  /// `dump ID all STYLE N FILE [arguments…]`.
  func dump(_ c: Command) throws {
    try c.expectCount(5, Int.max, usage: "dump ID all STYLE N FILE [fields…]")
    _ = try requireBox(c)
    guard c.arguments[1] == "all" else { throw c.error("only the group 'all' is supported") }
    let id = c.arguments[0]
    guard !dumps.contains(where: { $0.id == id }) else { throw c.error("dump '\(id)' already exists (undump it first)") }
    let every = try c.positiveInteger(3, "dump interval")
    guard let parse = Self.dumpStyleTable.first(where: { $0.key == c.arguments[2] })?.value else {
      throw c.error("unsupported dump style '\(c.arguments[2])' (\(Self.dumpStyleTable.map(\.key).joined(separator: ", ")))")
    }
    let specification = try parse(self, c)
    if case .custom(let fields) = specification.style, fields.contains(.element), c.arguments[4].hasSuffix(".bin") {
      throw c.error("'element' cannot be written to a binary dump (LAMMPS's binary layout holds numbers only)")
    }
    let dump = Dump(id: id, style: specification.style, every: every, pattern: c.arguments[4],
                    names: specification.names, creatorVersion: programVersion)
    dump.h5mdLayout = specification.layout
    dumps.append(dump)
  }

  /// `dump ID all custom N FILE FIELD…`: LAMMPS's per-atom fields and `c_ID` of a pe/atom compute.
  private func customDump(_ c: Command) throws -> DumpSpecification {
    let names = Array(c.arguments.dropFirst(5))
    guard !names.isEmpty else { throw c.error("dump custom needs at least one field") }
    let fields = try names.map { name in
      if name.hasPrefix("c_") {
        guard setup.energyComputes.contains(String(name.dropFirst(2))) else {
          throw c.error("'\(name)': no compute '\(name.dropFirst(2))' of style pe/atom")
        }
        return DumpField.energy
      }
      guard let field = DumpField(rawValue: name), field != .energy else {
        throw c.error("unknown dump custom field '\(name)' (id type element mass x y z xs ys zs xu yu zu ix iy iz vx vy vz fx fy fz c_ID)")
      }
      return field
    }
    return DumpSpecification(style: .custom(fields), names: names, layout: nil)
  }

  /// `dump ID all netcdf|netcdf/mpiio N FILE FIELD…`: `dump custom`'s fields in one AMBER-convention file.
  private func netcdfDump(_ c: Command, parallel: Bool) throws -> DumpSpecification {
    let custom = try customDump(c)
    guard case .custom(let fields) = custom.style else { preconditionFailure("customDump makes custom dumps") }
    if c.arguments[4].contains("*") || c.arguments[4].contains("%") {
      throw c.error("a netcdf dump writes every frame to one file: '*' and '%' are not allowed in its name")
    }
    do {
      _ = try AmberLayout(fields: fields, names: custom.names)
    } catch {
      throw c.error("dump \(c.arguments[2]): \(error)")
    }
    return DumpSpecification(style: .netcdf(fields: fields, parallel: parallel), names: custom.names, layout: nil)
  }

  /// `dump ID all h5md N FILE ELEMENTS…`: one file, written collectively.
  private func h5mdDump(_ c: Command) throws -> DumpSpecification {
    let layout = try h5mdLayout(c)
    if c.arguments[4].contains("*") || c.arguments[4].contains("%") {
      throw c.error("an h5md dump writes one file, collectively: '*' and '%' are not allowed in its name")
    }
    return DumpSpecification(style: .h5md, names: [], layout: layout)
  }

  /// LAMMPS `dump h5md` arguments: `position [every N] [image] velocity [every N] force [every N]
  /// species [every N] box yes|no author NAME`.
  private func h5mdLayout(_ c: Command) throws -> H5MDLayout {
    var layout = H5MDLayout(author: "N/A")
    var reader = KeywordReader(c, from: 5)
    while let word = reader.nextKeyword() {
      if let element = H5MDLayout.Element(rawValue: word) {
        guard layout.every[element] == nil else { throw c.error("dump h5md: '\(word)' given twice") }
        if element == .image {
          guard layout.every[.position] != nil else { throw c.error("dump h5md: 'image' must follow 'position'") }
          layout.every[.image] = 1
          continue
        }
        layout.every[element] = reader.take("every") ? try reader.positiveInteger("\(word) every") : 1
        continue
      }
      switch word {
      case "box": layout.box = try reader.yesNo()
      case "author": layout.author = try reader.word("author")
      case "file_from", "create_group":
        throw c.error("dump h5md: '\(word)' (several dumps or groups in one file) is not supported")
      default:
        throw reader.unknownKeyword("position, image, velocity, force, species, every, box, author", "dump h5md: unknown argument")
      }
    }
    guard !layout.elements.isEmpty else {
      throw c.error("dump h5md needs at least one of position, velocity, force, species")
    }
    return layout
  }

  /// `dump_modify ID sort id|off, element E…, every N, append yes|no, format int|float|line F`.
  func dumpModify(_ c: Command) throws {
    try c.expectCount(3, Int.max, usage: "dump_modify ID KEYWORD VALUE …")
    guard let dump = dumps.first(where: { $0.id == c.arguments[0] }) else { throw c.error("no dump with ID '\(c.arguments[0])'") }
    var reader = KeywordReader(c, from: 1)
    while let keyword = reader.nextKeyword() {
      if dump.h5mdLayout != nil && !["every", "compression_level"].contains(keyword) {
        throw c.error("dump_modify \(keyword): not available for h5md dumps (every, compression_level)")
      }
      if dump.isNetCDF && !["every", "append", "at", "double", "thermo"].contains(keyword) {
        throw c.error("dump_modify \(keyword): not available for netcdf dumps (every, append, at, double, thermo)")
      }
      if !dump.isNetCDF && ["at", "double", "thermo"].contains(keyword) {
        throw c.error("dump_modify \(keyword): only for netcdf dumps")
      }
      switch keyword {
      case "sort": dump.sortByID = try reader.choice(["id": true, "off": false])
      case "every": dump.every = try reader.positiveInteger("every")
      case "nfile", "fileper":
        guard dump.filePerRankGroup else { throw c.error("dump_modify \(keyword) needs '%' in the dump file name") }
        guard dump.fileGroupComm == nil else { throw c.error("dump_modify \(keyword): the dump has already written files") }
        let n = try reader.positiveInteger(keyword)
        dump.fileGrouping = keyword == "nfile" ? .files(n) : .ranksPerFile(n)
      case "append":
        dump.append = try reader.yesNo()
      case "double": dump.netcdfDouble = try reader.yesNo()
      case "at":
        let frame = try reader.integer("at")
        guard frame != 0 else { throw c.error("dump_modify at: frame 0 is not allowed (frames count from 1, or -1 from the end)") }
        dump.netcdfAt = frame
      case "thermo":
        guard dump.trajectory == nil else { throw c.error("dump_modify thermo: the netcdf file is already written") }
        dump.netcdfThermo = try reader.yesNo()
      case "element":
        dump.elements = try reader.words(masses.typeCount, "one element name per atom type")
      case "format":
        switch try reader.choice(["int": "int", "float": "float", "line": "line", "none": "none"]) {
        case "int": dump.format.integer = try reader.word("format")
        case "float": dump.format.float = try reader.word("format")
        case "line": dump.format.line = try reader.word("format").split(separator: " ").map(String.init)
        default: dump.format = DumpNumberFormat()
        }
        try validate(dump.format, c)
      case "compression_level":
        guard dump.h5mdLayout != nil else { throw c.error("dump_modify compression_level: only h5md dumps are compressed") }
        guard dump.h5mdWriter == nil else { throw c.error("dump_modify compression_level: the h5md file is already written") }
        let level = try reader.integer("compression level")
        guard (0...9).contains(level) else { throw c.error("dump_modify compression_level: expected 0 to 9, got \(level)") }
        dump.h5mdLayout?.compressionLevel = level
      default:
        throw reader.unknownKeyword("sort, every, append, element, format, nfile, fileper, compression_level, at, double, thermo",
                                    "unknown dump_modify keyword")
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
    dumps[index].finish()
    dumps.remove(at: index)
  }

  /// Closes the files that stay open between frames (h5md, collectively); the job calls it before MPI ends.
  public func closeOutputs() {
    for dump in dumps { dump.finish() }
  }
}
