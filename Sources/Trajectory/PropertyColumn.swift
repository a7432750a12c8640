/// One `name:type:width` triple of the `Properties` key: which columns of an atom line hold what.
struct PropertyColumn: Equatable {
  var name: String
  var kind: ExtendedXYZProperty.Kind
  var width: Int

  /// ASE reads `species` or `symbols` as the element symbols, `pos` or `positions` as the positions
  /// (its PROPERTY_NAME_MAP), and writes `species` and `pos`.
  static let speciesNames: Set<String> = ["species", "symbols"]
  static let positionNames: Set<String> = ["pos", "positions"]
  static let species = PropertyColumn(name: "species", kind: .string, width: 1)
  static let positions = PropertyColumn(name: "pos", kind: .real, width: 3)

  /// What ASE assumes when the comment line has no `Properties`: `species:S:1:pos:R:3`.
  static let defaultColumns = [species, positions]

  /// The `Properties` value for these columns.
  static func listText(_ columns: [PropertyColumn]) -> String {
    columns.map { "\($0.name):\($0.kind.rawValue):\($0.width)" }.joined(separator: ":")
  }

  /// Parses a `Properties` value; each name may appear once, and species and positions must be there with
  /// the shapes ASE gives them.
  static func parseList(_ text: String, at location: SourceLocation) throws -> [PropertyColumn] {
    let fields = text.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
    guard fields.count % 3 == 0 else {
      throw location.error("expected name:type:width triples in Properties, found \"\(text)\"")
    }
    var columns: [PropertyColumn] = []
    for start in stride(from: 0, to: fields.count, by: 3) {
      let (name, typeLetter, widthText) = (fields[start], fields[start + 1], fields[start + 2])
      guard let kind = ExtendedXYZProperty.Kind(rawValue: typeLetter) else {
        throw location.error("unknown property type \"\(typeLetter)\" for \(name) in Properties, expected R, I, S or L")
      }
      guard let width = Int(widthText), width > 0 else {
        throw location.error("expected a positive column count for \(name) in Properties, found \"\(widthText)\"")
      }
      guard !columns.contains(where: { $0.name == name }) else {
        throw location.error("expected each property once in Properties, found \(name) twice")
      }
      columns.append(PropertyColumn(name: name, kind: kind, width: width))
    }
    try requireOne(of: speciesNames, shapedLike: species, in: columns, text: text, at: location)
    try requireOne(of: positionNames, shapedLike: positions, in: columns, text: text, at: location)
    return columns
  }

  private static func requireOne(of names: Set<String>, shapedLike expected: PropertyColumn,
                                 in columns: [PropertyColumn], text: String, at location: SourceLocation) throws {
    let matches = columns.filter { names.contains($0.name) }
    guard matches.count == 1, matches[0].kind == expected.kind, matches[0].width == expected.width else {
      throw location.error("expected one \(listText([expected])) column in Properties, found \"\(text)\"")
    }
  }
}
