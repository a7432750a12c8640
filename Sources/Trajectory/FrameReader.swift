/// Reads frames line by line: an atom count, a comment line, then one line per atom.
struct FrameReader {
  private let fileName: String
  /// The file's lines without their terminators (`\n` or `\r\n`).
  private let lines: [Substring]
  /// Index of the next unread line; its 1-based line number is `next + 1`.
  private var next = 0

  init(text: String, fileName: String) {
    self.fileName = fileName
    var lines = text.utf8.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).map { line in
      Substring(line.last == UInt8(ascii: "\r") ? line.dropLast() : line)
    }
    // The final newline terminates the last line rather than starting an empty one.
    if lines.last?.isEmpty == true { lines.removeLast() }
    self.lines = lines
  }

  mutating func readAll() throws -> [ExtendedXYZFrame] {
    var frames: [ExtendedXYZFrame] = []
    while next < lines.count {
      if isBlank(lines[next]) {
        try expectOnlyBlankLinesRemain()
        break
      }
      frames.append(try readFrame())
    }
    return frames
  }

  /// ASE stops reading at the first blank line where a count belongs; frames after it would silently vanish,
  /// so they are an error here.
  private func expectOnlyBlankLinesRemain() throws {
    if lines[next...].contains(where: { !isBlank($0) }) {
      throw location(of: next).error("expected an atom count, found a blank line followed by more data")
    }
  }

  private mutating func readFrame() throws -> ExtendedXYZFrame {
    let countText = lines[next].trimmingWhitespace
    guard let atomCount = Int(countText), atomCount >= 0 else {
      throw location(of: next).error("expected an atom count (a non-negative integer), found \"\(countText)\"")
    }
    next += 1
    guard next < lines.count else {
      throw location(of: next).error("expected a comment line, found the end of the file")
    }
    let header = try parseFrameHeader(lines[next], at: location(of: next))
    next += 1
    let table = try readAtomLines(count: atomCount, columns: header.columns)

    var species: [String] = []
    var positions: [Double] = []
    var arrays: [ExtendedXYZProperty] = []
    for (index, column) in header.columns.enumerated() {
      let values = try table.values(ofColumnAt: index)
      switch values {
      case .strings(let symbols) where PropertyColumn.speciesNames.contains(column.name):
        species = symbols.map(capitalizedLikePython)
      case .reals(let coordinates) where PropertyColumn.positionNames.contains(column.name):
        try table.requireFinitePositions(coordinates)
        positions = coordinates
      default:
        arrays.append(ExtendedXYZProperty(name: column.name, width: column.width, values: values))
      }
    }
    return ExtendedXYZFrame(species: species, positions: positions, lattice: header.lattice, pbc: header.pbc,
                            info: header.info, arrays: arrays)
  }

  private mutating func readAtomLines(count atomCount: Int, columns: [PropertyColumn]) throws -> AtomTable {
    var table = AtomTable(columns: columns, firstLine: location(of: next), atomCount: atomCount)
    for atom in 0..<atomCount {
      guard next < lines.count else {
        throw location(of: next).error("expected \(atomCount) atom lines, found the end of the file after \(atom)")
      }
      let fields = lines[next].utf8.split(whereSeparator: isASCIIWhitespace).map(Substring.init)
      guard fields.count == table.fieldsPerAtom else {
        let properties = PropertyColumn.listText(columns)
        throw location(of: next).error(
          "expected \(table.fieldsPerAtom) columns (Properties=\(properties)), found \(fields.count)")
      }
      table.fields.append(contentsOf: fields)
      next += 1
    }
    return table
  }

  private func location(of lineIndex: Int) -> SourceLocation {
    SourceLocation(fileName: fileName, line: lineIndex + 1)
  }
}

/// The fields of one frame's atom lines, converted column group by column group.
private struct AtomTable {
  let columns: [PropertyColumn]
  let firstLine: SourceLocation
  let atomCount: Int
  let fieldsPerAtom: Int
  /// Packed [atom][field], filled by the reader.
  var fields: [Substring] = []

  init(columns: [PropertyColumn], firstLine: SourceLocation, atomCount: Int) {
    self.columns = columns
    self.firstLine = firstLine
    self.atomCount = atomCount
    self.fieldsPerAtom = columns.reduce(0) { $0 + $1.width }
    fields.reserveCapacity(atomCount * fieldsPerAtom)
  }

  func values(ofColumnAt index: Int) throws -> ExtendedXYZProperty.Values {
    let column = columns[index]
    let firstField = columns[..<index].reduce(0) { $0 + $1.width }
    func convert<Value>(_ expected: String, _ parse: (Substring) -> Value?) throws -> [Value] {
      var values: [Value] = []
      values.reserveCapacity(atomCount * column.width)
      for atom in 0..<atomCount {
        for field in firstField..<firstField + column.width {
          let text = fields[atom * fieldsPerAtom + field]
          guard let value = parse(text) else {
            throw line(ofAtom: atom).error(
              "expected \(expected) in column \(field + 1) (\(column.name)), found \"\(text)\"")
          }
          values.append(value)
        }
      }
      return values
    }
    switch column.kind {
    case .real: return .reals(try convert("a real number", pythonFloat))
    case .integer: return .integers(try convert("an integer", { Int($0) }))
    case .string: return .strings(try convert("a string", { String($0) }))
    case .logical: return .logicals(try convert("T or F", { logicalFlags[String($0)] }))
    }
  }

  /// Positions feed the dynamics directly, where a NaN or infinity would spread silently.
  func requireFinitePositions(_ coordinates: [Double]) throws {
    if let bad = coordinates.firstIndex(where: { !$0.isFinite }) {
      let axis = ["x", "y", "z"][bad % 3]
      throw line(ofAtom: bad / 3).error(
        "expected finite coordinates for atom \(bad / 3 + 1), found \(axis) = \(coordinates[bad])")
    }
  }

  private func line(ofAtom atom: Int) -> SourceLocation {
    SourceLocation(fileName: firstLine.fileName, line: firstLine.line + atom)
  }
}

/// The spellings ASE's `parse_properties` accepts in `L` columns.
private let logicalFlags: [String: Bool] = ["T": true, "F": false, "True": true, "False": false]

/// Python's `str.capitalize()`, which ASE applies to every symbol it reads (`SI` and `si` become `Si`).
private func capitalizedLikePython(_ symbol: String) -> String {
  symbol.prefix(1).uppercased() + symbol.dropFirst().lowercased()
}

private func isASCIIWhitespace(_ byte: UInt8) -> Bool {
  byte == UInt8(ascii: " ") || (UInt8(ascii: "\t")...UInt8(ascii: "\r")).contains(byte)
}

private func isBlank(_ line: Substring) -> Bool {
  line.utf8.allSatisfy(isASCIIWhitespace)
}

extension Substring {
  fileprivate var trimmingWhitespace: Substring {
    let start = utf8.firstIndex { !isASCIIWhitespace($0) } ?? utf8.endIndex
    let end = utf8.lastIndex { !isASCIIWhitespace($0) }.map(utf8.index(after:)) ?? start
    return self[start..<end]
  }
}
