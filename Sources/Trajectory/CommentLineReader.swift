/// What a frame's comment line declares: the keys the reader interprets itself, and the rest as info.
struct FrameHeader {
  var lattice: [Double]?
  var pbc: [Bool]?
  var columns: [PropertyColumn] = PropertyColumn.defaultColumns
  var info: ExtendedXYZInfo = [:]
}

/// Where in which file a problem was found.
struct SourceLocation {
  var fileName: String
  var line: Int

  func error(_ message: String) -> ExtendedXYZError {
    ExtendedXYZError(fileName: fileName, line: line, message: message)
  }
}

/// Parses a comment line the way ASE's `key_val_str_to_dict` (its default parser) does.
func parseFrameHeader(_ line: Substring, at location: SourceLocation) throws -> FrameHeader {
  var header = FrameHeader()
  for (key, rawValue) in try keyValuePairs(line, at: location) {
    // ASE gives a bare key the value "T" before converting it: a bare `pbc` means periodic everywhere.
    let value = rawValue ?? "T"
    switch key {
    case "Lattice": header.lattice = try latticeVectors(value, at: location)
    case "pbc": header.pbc = try periodicity(value, at: location)
    case "Properties": header.columns = try PropertyColumn.parseList(value, at: location)
    default: header.info[key] = try infoValue(key: key, text: value, at: location)
    }
  }
  return header
}

/// Splits the line into key and raw value, character by character as ASE does: `"…"`, `'…'`, `{…}` and
/// `[…]` delimit text that may hold spaces (not nested), a backslash takes the next character literally,
/// whitespace may surround `=`, further `=` belong to the value, and a key without `=` has no value.
/// Two deliberate departures: an empty quoted value (`key=""`) ends there, where ASE would swallow the
/// next pair into it, and an unterminated quote is an error, where ASE silently takes the rest of the line.
private func keyValuePairs(_ line: Substring, at location: SourceLocation) throws -> [(String, String?)] {
  /// One key and its `=`-separated value parts, as ASE's list of character lists.
  struct Pair {
    var parts: [String] = [""]
    /// The current part has had a quote opened, so even an empty part is a value.
    var currentPartQuoted = false
    var isUnstarted: Bool { parts.count == 1 && currentPartIsEmpty }
    var currentPartIsEmpty: Bool { parts[parts.count - 1].isEmpty && !currentPartQuoted }

    mutating func append(_ scalar: Unicode.Scalar) { parts[parts.count - 1].unicodeScalars.append(scalar) }

    mutating func startValuePart() {
      parts.append("")
      currentPartQuoted = false
    }
  }
  let closingDelimiters: [Unicode.Scalar: Unicode.Scalar] = ["\"": "\"", "'": "'", "{": "}", "[": "]"]
  var pairs = [Pair()]
  var openDelimiterCloser: Unicode.Scalar?
  var escaped = false

  for scalar in line.unicodeScalars {
    if escaped {
      pairs[pairs.count - 1].append(scalar)
      escaped = false
    } else if scalar == "\\" {
      escaped = true
    } else if let closer = openDelimiterCloser {
      if scalar == closer {
        openDelimiterCloser = nil
      } else {
        pairs[pairs.count - 1].append(scalar)
      }
    } else if let closer = closingDelimiters[scalar] {
      openDelimiterCloser = closer
      pairs[pairs.count - 1].currentPartQuoted = true
    } else if scalar.properties.isWhitespace {
      // Whitespace right after `=` (or between pairs) separates nothing yet.
      if !pairs[pairs.count - 1].currentPartIsEmpty { pairs.append(Pair()) }
    } else if scalar == "=" {
      // `key = value`: the whitespace before `=` opened a pair that the `=` now folds back.
      if pairs[pairs.count - 1].isUnstarted { pairs.removeLast() }
      guard !pairs.isEmpty else { throw location.error("expected a key before '=' in the comment line") }
      pairs[pairs.count - 1].startValuePart()
    } else {
      pairs[pairs.count - 1].append(scalar)
    }
  }
  if let closer = openDelimiterCloser {
    throw location.error("expected a closing \(closer) in the comment line, found the end of the line")
  }
  return pairs.filter { !$0.isUnstarted }.map { pair in
    (pair.parts[0], pair.parts.count == 1 ? nil : pair.parts.dropFirst().joined(separator: "="))
  }
}

/// ASE splits a value into number or flag tokens at whitespace and commas (`re.findall(r'[^\s,]+', …)`),
/// which is also how the old `key=[1, 2, 3]` list syntax reads as a list.
private func valueTokens(_ text: String) -> [Substring] {
  text.split { $0 == "," || $0.isWhitespace }
}

/// ASE's conversion of an info value: integers, else reals, else flags, else the text. Text starting with
/// `_JSON ` stays text here (ASE would decode it), which keeps it byte-exact on writing.
private func infoValue(key: String, text: String, at location: SourceLocation) throws -> ExtendedXYZValue {
  // ASE's UNPROCESSED_KEYS: an identifier stays text even when it looks like a number.
  if key.lowercased() == "uid" { return .string(text) }
  let tokens = valueTokens(text)
  var value: ExtendedXYZValue?
  if let integers = parseAll(tokens, with: { Int($0) }) {
    value = integers.count == 1 ? .integer(integers[0]) : .integers(integers)
  } else if let reals = parseAll(tokens, with: pythonFloat) {
    value = reals.count == 1 ? .double(reals[0]) : .doubles(reals)
  }
  if ExtendedXYZ.columnMajorMatrixKeys.contains(key) && value?.nineNumbers == nil {
    throw location.error("expected 9 numbers in \(key) (a 3×3 matrix), found \"\(text)\"")
  }
  if value == nil, let flags = parseAll(tokens, with: { infoFlags[String($0)] }) {
    value = flags.count == 1 ? .bool(flags[0]) : .bools(flags)
  }
  return value ?? .string(text)
}

/// The flag spellings ASE's `key_val_str_to_dict` converts (it deliberately leaves `t` and `f` as text).
private let infoFlags: [String: Bool] = [
  "T": true, "F": false, "true": true, "false": false, "True": true, "False": false, "TRUE": true, "FALSE": false,
]

private func latticeVectors(_ text: String, at location: SourceLocation) throws -> [Double] {
  guard let numbers = parseAll(valueTokens(text), with: pythonFloat), numbers.count == 9,
        numbers.allSatisfy(\.isFinite) else {
    throw location.error("expected 9 finite numbers in Lattice, found \"\(text)\"")
  }
  return numbers
}

/// ASE's flag spellings and, beyond them, lower-case `t`/`f` as other extended XYZ writers spell pbc.
private let pbcFlags = infoFlags.merging(["t": true, "f": false]) { ase, _ in ase }

/// Three flags, or one that ASE's `Atoms(pbc=…)` applies to all three directions.
private func periodicity(_ text: String, at location: SourceLocation) throws -> [Bool] {
  guard let flags = parseAll(valueTokens(text), with: { pbcFlags[String($0)] }),
        flags.count == 3 || flags.count == 1 else {
    throw location.error("expected 3 flags (T or F) in pbc, found \"\(text)\"")
  }
  return flags.count == 3 ? flags : Array(repeating: flags[0], count: 3)
}

/// All tokens converted, or nil if any one does not convert.
func parseAll<Token, Value>(_ tokens: [Token], with convert: (Token) -> Value?) -> [Value]? {
  var values: [Value] = []
  values.reserveCapacity(tokens.count)
  for token in tokens {
    guard let value = convert(token) else { return nil }
    values.append(value)
  }
  return values
}

/// Python's `float()` syntax: decimal digits with optional point and exponent, or inf/infinity/nan, each
/// optionally signed. Swift's `Double(_:)` (correctly rounded, so exact round trips) also accepts hexadecimal
/// and NaN payloads, which Python, and so ASE, rejects.
func pythonFloat(_ token: Substring) -> Double? {
  let hasSign = token.utf8.first == UInt8(ascii: "+") || token.utf8.first == UInt8(ascii: "-")
  let unsigned = hasSign ? token.dropFirst() : token
  // The common case first: checking bytes allocates nothing, unlike lower-casing the token.
  guard unsigned.utf8.allSatisfy(isDecimalFloatByte) || specialFloatNames.contains(unsigned.lowercased()) else {
    return nil
  }
  return Double(token)
}

private let specialFloatNames: Set<String> = ["inf", "infinity", "nan"]

private func isDecimalFloatByte(_ byte: UInt8) -> Bool {
  switch byte {
  case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "."), UInt8(ascii: "e"), UInt8(ascii: "E"),
       UInt8(ascii: "+"), UInt8(ascii: "-"):
    true
  default:
    false
  }
}
