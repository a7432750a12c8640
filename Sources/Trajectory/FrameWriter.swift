// The layout of ASE's `write_xyz`: the atom count, then the comment line `Lattice="…"` (when there is a
// cell), `Properties=species:S:1:pos:R:3:…`, the info keys in order, and `pbc="T T T"` last, then one line per
// atom with species, positions and the other properties in `Properties` order. Unlike ASE, which prints
// per-atom reals with `%16.8f`, every real is written in its shortest round-trip form so that reading the
// file back gives the same bits.

extension ExtendedXYZFrame {
  func appendFormatted(to text: inout String) {
    checkWritable()
    text += "\(atomCount)\n"
    text += commentLine
    text += "\n"
    for atom in 0..<atomCount {
      text += species[atom]
      for coordinate in positions[3 * atom..<3 * atom + 3] {
        text += " "
        text += realText(coordinate)
      }
      for property in arrays {
        for index in property.width * atom..<property.width * (atom + 1) {
          text += " "
          text += property.values.fieldText(at: index)
        }
      }
      text += "\n"
    }
  }

  private var commentLine: String {
    var items: [String] = []
    if let lattice { items.append("Lattice=\"\(lattice.map(realText).joined(separator: " "))\"") }
    let columns = [PropertyColumn.species, PropertyColumn.positions]
      + arrays.map { PropertyColumn(name: $0.name, kind: $0.kind, width: $0.width) }
    items.append("Properties=\(PropertyColumn.listText(columns))")
    for entry in info { items.append("\(quotedIfNeeded(entry.key))=\(entry.value.commentText)") }
    items.append("pbc=\"\(pbc.map(flagText).joined(separator: " "))\"")
    return items.joined(separator: " ")
  }

  /// Traps on a frame the text cannot hold: sizes that disagree, or names and fields that would break the
  /// line and column structure, so that the file would not parse back.
  private func checkWritable() {
    precondition(positions.count == 3 * atomCount,
                 "extended XYZ: \(atomCount) species need \(3 * atomCount) coordinates, found \(positions.count)")
    precondition(lattice.map { $0.count == 9 } ?? true, "extended XYZ: a lattice has 9 numbers")
    precondition(pbc.count == 3, "extended XYZ: pbc has 3 flags, found \(pbc.count)")
    precondition(species.allSatisfy(isAtomField), "extended XYZ: species must be non-empty and without whitespace")
    let reservedNames = PropertyColumn.speciesNames.union(PropertyColumn.positionNames)
    precondition(Set(arrays.map(\.name)).count == arrays.count, "extended XYZ: property names must be unique")
    for property in arrays {
      precondition(!reservedNames.contains(property.name) && isPropertyName(property.name),
                   "extended XYZ: \"\(property.name)\" cannot name a property")
      precondition(property.width > 0 && property.valueCount == property.width * atomCount,
                   "extended XYZ: \(property.name) needs \(property.width) × \(atomCount) values")
      if case .strings(let strings) = property.values {
        precondition(strings.allSatisfy(isAtomField),
                     "extended XYZ: \(property.name) values must be non-empty and without whitespace")
      }
    }
    for entry in info {
      precondition(!["Lattice", "Properties", "pbc"].contains(entry.key),
                   "extended XYZ: \(entry.key) is written from the frame's own fields, not from info")
      precondition(!entry.key.isEmpty && isSingleLine(entry.key), "extended XYZ: info keys are non-empty single lines")
      if case .string(let string) = entry.value {
        precondition(isSingleLine(string), "extended XYZ: the value of \(entry.key) has a line break")
      }
    }
  }
}

extension ExtendedXYZValue {
  /// ASE's `key_val_dict_to_str`: lists space-separated, flags as T/F, text quoted where it needs it.
  fileprivate var commentText: String {
    switch self {
    case .string(let string): quotedIfNeeded(string)
    case .double(let real): realText(real)
    case .integer(let integer): "\(integer)"
    case .bool(let flag): flagText(flag)
    case .doubles(let reals): quotedIfNeeded(reals.map(realText).joined(separator: " "))
    case .integers(let integers): quotedIfNeeded(integers.map { "\($0)" }.joined(separator: " "))
    case .bools(let flags): quotedIfNeeded(flags.map(flagText).joined(separator: " "))
    }
  }
}

extension ExtendedXYZProperty.Values {
  fileprivate func fieldText(at index: Int) -> String {
    switch self {
    case .reals(let reals): realText(reals[index])
    case .integers(let integers): "\(integers[index])"
    case .strings(let strings): strings[index]
    case .logicals(let flags): flagText(flags[index])
    }
  }
}

/// Swift's description is the shortest text that parses back to the same bits, and it always carries a
/// point or an exponent (`-3.0`, `1e-05`), so Python and ASE read it as a float rather than an integer.
private func realText(_ real: Double) -> String {
  "\(real)"
}

private func flagText(_ flag: Bool) -> String {
  flag ? "T" : "F"
}

/// Quotes text the comment-line reader would otherwise split or strip: like ASE's `escape`, text with
/// whitespace, quotes or brackets, and beyond it text with `=` or a backslash, and empty text, so that any
/// single-line string reads back unchanged (as text if it does not look like a number or a flag).
private func quotedIfNeeded(_ text: String) -> String {
  let needsQuotes = text.isEmpty || text.contains { $0.isWhitespace || "\"'{}[]=\\".contains($0) }
  guard needsQuotes else { return text }
  var quoted = "\""
  for character in text {
    if character == "\"" || character == "\\" { quoted.append("\\") }
    quoted.append(character)
  }
  return quoted + "\""
}

/// Atom-line fields are split at whitespace, so they cannot be empty or contain it.
private func isAtomField(_ text: String) -> Bool {
  !text.isEmpty && !text.contains(where: \.isWhitespace)
}

/// A name that stays one `Properties` field: no separators, quotes or brackets.
private func isPropertyName(_ name: String) -> Bool {
  !name.isEmpty && !name.contains { $0.isWhitespace || ":\"'{}[]=\\".contains($0) }
}

private func isSingleLine(_ text: String) -> Bool {
  !text.contains(where: \.isNewline)
}
