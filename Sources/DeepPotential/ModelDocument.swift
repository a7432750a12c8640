import Foundation

/// A JSON value of the model document.
enum JSONValue: Decodable {
  case null
  case bool(Bool)
  case number(Double)
  case string(String)
  case array([JSONValue])
  case object([String: JSONValue])

  init(from decoder: Decoder) throws {
    let container = try decoder.singleValueContainer()
    if container.decodeNil() {
      self = .null
    } else if let value = try? container.decode(Bool.self) {
      self = .bool(value)
    } else if let value = try? container.decode(Double.self) {
      self = .number(value)
    } else if let value = try? container.decode(String.self) {
      self = .string(value)
    } else if let value = try? container.decode([JSONValue].self) {
      self = .array(value)
    } else {
      self = .object(try container.decode([String: JSONValue].self))
    }
  }
}

/// A position in the model document: its value and the dotted key path used in error messages
/// ("model.descriptor.sel"), plus the file that resolves `@variables` dataset references.
struct DocumentNode {
  let value: JSONValue
  let keyPath: String
  let file: ModelFile

  private func fail(_ expected: String) -> DeepPotentialError {
    DeepPotentialError("\(file.path): \(keyPath): expected \(expected)")
  }

  func child(_ key: String) -> DocumentNode {
    guard case .object(let members) = value else {
      return DocumentNode(value: .null, keyPath: "\(keyPath).\(key)", file: file)
    }
    return DocumentNode(value: members[key] ?? .null, keyPath: keyPath.isEmpty ? key : "\(keyPath).\(key)",
                        file: file)
  }

  subscript(_ key: String) -> DocumentNode { child(key) }

  var isNull: Bool { if case .null = value { true } else { false } }
  var keys: [String] { if case .object(let members) = value { Array(members.keys) } else { [] } }

  func string() throws -> String {
    guard case .string(let s) = value else { throw fail("a string") }
    return s
  }
  func double() throws -> Double {
    guard case .number(let x) = value, x.isFinite else { throw fail("a number") }
    return x
  }
  func int() throws -> Int {
    guard case .number(let x) = value, x == x.rounded(), abs(x) < 1e15 else { throw fail("an integer") }
    return Int(x)
  }
  func bool() throws -> Bool {
    guard case .bool(let b) = value else { throw fail("true or false") }
    return b
  }
  func list() throws -> [DocumentNode] {
    guard case .array(let items) = value else { throw fail("a list") }
    return items.enumerated().map { DocumentNode(value: $1, keyPath: "\(keyPath)[\($0)]", file: file) }
  }
  func ints() throws -> [Int] { try list().map { try $0.int() } }
  func strings() throws -> [String] { try list().map { try $0.string() } }
  /// Unordered type pairs such as `exclude_types`, as a symmetric ntypes × ntypes mask.
  func typePairs(typeCount n: Int) throws -> [Bool] {
    var mask = [Bool](repeating: false, count: n * n)
    if isNull { return mask }
    for pair in try list() {
      let p = try pair.ints()
      guard p.count == 2, p.allSatisfy({ (0..<n).contains($0) }) else {
        throw DeepPotentialError("\(file.path): \(pair.keyPath): expected a pair of type indices below \(n)")
      }
      mask[p[0] * n + p[1]] = true
      mask[p[1] * n + p[0]] = true
    }
    return mask
  }

  /// `@variables` entries are dataset paths; null means "no array".
  func array() throws -> StoredArray? {
    if isNull { return nil }
    return try file.array(try string(), for: keyPath)
  }
  func requiredArray(shape: [Int]? = nil) throws -> StoredArray {
    guard let stored = try array() else { throw fail("an array") }
    if let shape, stored.shape != shape {
      throw DeepPotentialError("\(file.path): \(keyPath): expected shape \(shape), found \(stored.shape)")
    }
    return stored
  }

  /// Refuses an `@version` outside what this reader understands.
  func checkVersion(_ accepted: ClosedRange<Int>) throws {
    let node = self["@version"]
    if node.isNull { return }
    let version = try node.int()
    guard accepted.contains(version) else {
      throw DeepPotentialError("\(file.path): \(node.keyPath) = \(version) is not supported (accepted: \(accepted.lowerBound)...\(accepted.upperBound))")
    }
  }

  func unsupported(_ what: String) -> DeepPotentialError {
    DeepPotentialError("\(file.path): \(keyPath): \(what) is not supported")
  }
}

extension ModelFile {
  func rootNode() throws -> DocumentNode {
    let text = try documentText()
    do {
      let value = try JSONDecoder().decode(JSONValue.self, from: Data(text.utf8))
      return DocumentNode(value: value, keyPath: "", file: self)
    } catch {
      throw DeepPotentialError("\(path): the root attribute 'json' is not valid JSON")
    }
  }
}

/// The readers' common hyper-parameter checks.
extension DocumentNode {
  /// An integer that must be positive (widths, layer counts).
  func positiveInt() throws -> Int {
    let value = try int()
    guard value > 0 else { throw DeepPotentialError("\(file.path): \(keyPath): expected a positive integer, found \(value)") }
    return value
  }

  /// A boolean that DeePMD-kit may leave out, `fallback` then.
  func flag(default fallback: Bool) throws -> Bool { isNull ? fallback : try bool() }
}

/// JSON equality of hyper-parameters (numbers, flags, names, lists of them); a selection is an integer
/// in the descriptor's arguments and a one-element list in its layers, so the two compare equal.
func sameHyperParameter(_ x: JSONValue, _ y: JSONValue) -> Bool {
  switch (x, y) {
  case (.null, .null): return true
  case (.bool(let p), .bool(let q)): return p == q
  case (.number(let p), .number(let q)): return p == q
  case (.string(let p), .string(let q)): return p == q
  case (.array(let p), .array(let q)): return p.count == q.count && zip(p, q).allSatisfy { sameHyperParameter($0, $1) }
  case (.array(let p), .number): return p.count == 1 && sameHyperParameter(p[0], y)
  case (.number, .array(let q)): return q.count == 1 && sameHyperParameter(x, q[0])
  default: return false
  }
}
