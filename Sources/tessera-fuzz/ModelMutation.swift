import CHDF5
import Foundation
import ModelFileEditing

/// Mutations of a DeePMD-kit `.dp` file made through HDF5 itself, so the file stays valid HDF5 and
/// the damage reaches Tessera's model reader: the `json` document (keys, types, shapes, numbers,
/// raw text) and the root datasets it refers to (shape, element type, values, presence). Raw
/// truncation and bit flips check that damaged HDF5 is refused rather than trusted.
enum ModelMutation {
  struct Failure: Error, CustomStringConvertible { let description: String }

  static func mutate(path: String, using rng: inout SeededRandom) throws -> String {
    H5Eset_auto2(tessera_h5e_default(), nil, nil)
    switch rng.below(12) {
    case 0: return try truncate(path: path, using: &rng)
    case 1: return try flipBit(path: path, using: &rng)
    case 2, 3, 4, 5: return try editDataset(path: path, using: &rng)
    case 6: return try rewriteDocumentText(path: path, using: &rng)
    default: return try editDocument(path: path, using: &rng)
    }
  }

  // MARK: - Raw bytes

  private static func truncate(path: String, using rng: inout SeededRandom) throws -> String {
    let size = try FileManager.default.attributesOfItem(atPath: path)[.size] as! Int
    let length = rng.below(size)
    guard Glibc.truncate(path, off_t(length)) == 0 else { throw Failure(description: "cannot truncate \(path)") }
    return "truncate to \(length) of \(size) bytes"
  }

  private static func flipBit(path: String, using rng: inout SeededRandom) throws -> String {
    var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
    let at = rng.below(bytes.count), bit = rng.below(8)
    bytes[at] ^= UInt8(1 << bit)
    try Data(bytes).write(to: URL(fileURLWithPath: path))
    return "flip bit \(bit) of byte \(at)"
  }

  // MARK: - The json document

  /// A key path into the document: object keys and array indices.
  enum Step: CustomStringConvertible {
    case key(String), index(Int)
    var description: String {
      switch self {
      case .key(let k): return k
      case .index(let i): return String(i)
      }
    }
  }

  private static func editDocument(path: String, using rng: inout SeededRandom) throws -> String {
    let text = try readDocument(path: path)
    var document = try JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed])
    var paths: [[Step]] = []
    collect(document, prefix: [], into: &paths)
    let target = rng.pick(paths)
    let name = target.map(\.description).joined(separator: ".")
    let current = value(in: document, at: target)
    let replacement: Any?
    let what: String
    switch rng.below(7) {
    case 0:
      replacement = nil
      what = "delete"
    case 1:
      replacement = rng.pick(["text", "" as Any, NSNull(), true] as [Any])
      what = "set to a string/null/bool"
    case 2:
      replacement = rng.pick([1e308, -1e308, -1.0, 0.0, 1e-320, 3.5, 9_223_372_036_854_775_807.0, 4_294_967_296.0] as [Double])
      what = "set to \(replacement!)"
    case 3:
      replacement = rng.pick([[], [1, 2], [[1.5]], ["a"]] as [Any])
      what = "set to an array \(replacement!)"
    case 4:
      replacement = ["tessera_fuzz": 1] as [String: Any]
      what = "set to an object"
    case 5:
      guard var array = current as? [Any], !array.isEmpty else { return try editDocument(path: path, using: &rng) }
      if rng.chance(0.5) { array.removeLast() } else { array.append(array[0]) }
      replacement = array
      what = "change array length to \(array.count)"
    default:
      guard case .key = target.last, target.count >= 1 else { return try editDocument(path: path, using: &rng) }
      let parent = Array(target.dropLast())
      guard var object = self.value(in: document, at: parent) as? [String: Any] else {
        return try editDocument(path: path, using: &rng)
      }
      object["tessera_unknown_key"] = 1
      document = assign(object, in: document, at: parent) as Any
      try replaceModelDocument(path: path, text: try serialise(document))
      return "json: add unknown key next to \(name)"
    }
    document = assign(replacement, in: document, at: target) as Any
    try replaceModelDocument(path: path, text: try serialise(document))
    return "json: \(name): \(what)"
  }

  /// Damage to the document's text that JSONSerialization could not write: truncation, NaN and
  /// Infinity literals, a bit flip, a missing attribute, or one of the wrong HDF5 type.
  private static func rewriteDocumentText(path: String, using rng: inout SeededRandom) throws -> String {
    let text = try readDocument(path: path)
    var bytes = [UInt8](text.utf8)
    switch rng.below(5) {
    case 0:
      let at = rng.below(bytes.count)
      try replaceModelDocument(path: path, text: String(decoding: bytes.prefix(at), as: UTF8.self))
      return "json text: truncate at byte \(at)"
    case 1:
      let digits = bytes.indices.filter { (48...57).contains(bytes[$0]) }
      let at = rng.pick(digits), literal = rng.pick(["NaN", "Infinity", "-Infinity", "1e999"])
      bytes.replaceSubrange(at...at, with: Array(literal.utf8))
      try replaceModelDocument(path: path, text: String(decoding: bytes, as: UTF8.self))
      return "json text: digit at byte \(at) -> \(literal)"
    case 2:
      let at = rng.below(bytes.count), bit = rng.below(7)
      bytes[at] ^= UInt8(1 << bit)
      try replaceModelDocument(path: path, text: String(decoding: bytes, as: UTF8.self))
      return "json text: flip bit \(bit) of byte \(at)"
    case 3:
      try withFile(path) { file in _ = H5Adelete(file, "json") }
      return "json attribute deleted"
    default:
      try withFile(path) { file in
        H5Adelete(file, "json")
        let space = H5Screate(H5S_SCALAR)
        defer { H5Sclose(space) }
        let attribute = H5Acreate2(file, "json", tessera_h5t_native_int64(), space, tessera_h5p_default(), tessera_h5p_default())
        defer { H5Aclose(attribute) }
        var value: Int64 = 42
        H5Awrite(attribute, tessera_h5t_native_int64(), &value)
      }
      return "json attribute replaced by an int64"
    }
  }

  private static func collect(_ node: Any, prefix: [Step], into paths: inout [[Step]]) {
    if !prefix.isEmpty { paths.append(prefix) }
    if let object = node as? [String: Any] {
      for key in object.keys.sorted() { collect(object[key]!, prefix: prefix + [.key(key)], into: &paths) }
    } else if let array = node as? [Any] {
      // Long numeric arrays (tables, biases) add nothing per element beyond their first few.
      for (i, item) in array.prefix(4).enumerated() { collect(item, prefix: prefix + [.index(i)], into: &paths) }
    }
  }

  private static func value(in node: Any, at path: [Step]) -> Any? {
    guard let step = path.first else { return node }
    switch step {
    case .key(let k): return (node as? [String: Any])?[k].flatMap { value(in: $0, at: Array(path.dropFirst())) }
    case .index(let i):
      guard let array = node as? [Any], i < array.count else { return nil }
      return value(in: array[i], at: Array(path.dropFirst()))
    }
  }

  /// The document with the value at `path` replaced, or removed when `newValue` is nil.
  private static func assign(_ newValue: Any?, in node: Any, at path: [Step]) -> Any? {
    guard let step = path.first else { return newValue }
    let rest = Array(path.dropFirst())
    switch step {
    case .key(let k):
      guard var object = node as? [String: Any] else { return node }
      object[k] = object[k].flatMap { assign(newValue, in: $0, at: rest) } ?? (rest.isEmpty ? newValue : nil)
      return object
    case .index(let i):
      guard var array = node as? [Any], i < array.count else { return node }
      if let v = assign(newValue, in: array[i], at: rest) { array[i] = v } else { array.remove(at: i) }
      return array
    }
  }

  private static func serialise(_ document: Any) throws -> String {
    String(decoding: try JSONSerialization.data(withJSONObject: document, options: [.fragmentsAllowed, .sortedKeys]),
           as: UTF8.self)
  }

  private static func withFile(_ path: String, _ body: (hid_t) throws -> Void) throws {
    let file = H5Fopen(path, tessera_h5f_acc_rdwr(), tessera_h5p_default())
    guard file >= 0 else { throw Failure(description: "cannot open \(path) for editing") }
    defer { H5Fclose(file) }
    try body(file)
  }

  private static func readDocument(path: String) throws -> String {
    var text = ""
    try withFile(path) { file in
      let attribute = H5Aopen(file, "json", tessera_h5p_default())
      guard attribute >= 0 else { throw Failure(description: "\(path) has no json attribute") }
      defer { H5Aclose(attribute) }
      let type = H5Tcopy(tessera_h5t_c_s1())
      defer { H5Tclose(type) }
      H5Tset_size(type, tessera_h5t_variable())
      H5Tset_cset(type, H5T_CSET_UTF8)
      var pointer: UnsafeMutablePointer<CChar>? = nil
      guard H5Aread(attribute, type, &pointer) >= 0, let p = pointer else { throw Failure(description: "cannot read json") }
      text = String(cString: p)
      H5free_memory(p)
    }
    return text
  }

  // MARK: - Datasets

  private static func editDataset(path: String, using rng: inout SeededRandom) throws -> String {
    var what = ""
    try withFile(path) { file in
      let names = datasetNames(file)
      guard !names.isEmpty else { what = "no datasets"; return }
      let name = rng.pick(names)
      let (values, shape) = read(file, name)
      H5Ldelete(file, name, tessera_h5p_default())
      switch rng.below(8) {
      case 0:
        what = "dataset \(name): deleted"
      case 1:
        var wrong = shape.isEmpty ? [2] : shape
        let d = rng.below(wrong.count)
        wrong[d] = max(0, wrong[d] + rng.pick([-1, 1, 7]))
        let count = wrong.reduce(1, *)
        write(file, name, Array((values + Array(repeating: 0.5, count: max(0, count - values.count))).prefix(count)), shape: wrong)
        what = "dataset \(name): shape \(shape) -> \(wrong)"
      case 2:
        write(file, name, values, shape: [values.count])
        what = "dataset \(name): shape \(shape) -> flat [\(values.count)]"
      case 3:
        write(file, name, Array(values.prefix(1)) + (values.isEmpty ? [1] : []), shape: [])
        what = "dataset \(name): shape \(shape) -> scalar"
      case 4:
        write(file, name, values, shape: shape, type: tessera_h5t_native_int64())
        what = "dataset \(name): float -> int64"
      case 5:
        write(file, name, values, shape: shape + [1, 1])
        what = "dataset \(name): shape \(shape) -> \(shape + [1, 1])"
      default:
        var damaged = values
        let special = rng.pick([Double.nan, .infinity, -.infinity, 1e308, -1e308])
        if !damaged.isEmpty { damaged[rng.below(damaged.count)] = special }
        write(file, name, damaged, shape: shape)
        what = "dataset \(name): one value -> \(special)"
      }
    }
    return what
  }

  private static func datasetNames(_ file: hid_t) -> [String] {
    var info = H5G_info_t()
    guard H5Gget_info(file, &info) >= 0 else { return [] }
    return (0..<info.nlinks).compactMap { i -> String? in
      var buffer = [CChar](repeating: 0, count: 256)
      guard H5Lget_name_by_idx(file, ".", H5_INDEX_NAME, H5_ITER_INC, i, &buffer, 256, tessera_h5p_default()) > 0 else {
        return nil
      }
      return "/" + String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
  }

  private static func read(_ file: hid_t, _ name: String) -> ([Double], [Int]) {
    let dataset = H5Dopen2(file, name, tessera_h5p_default())
    guard dataset >= 0 else { return ([], []) }
    defer { H5Dclose(dataset) }
    let space = H5Dget_space(dataset)
    defer { H5Sclose(space) }
    let rank = Int(H5Sget_simple_extent_ndims(space))
    var dims = [hsize_t](repeating: 0, count: max(rank, 1))
    H5Sget_simple_extent_dims(space, &dims, nil)
    let shape = dims.prefix(max(rank, 0)).map { Int($0) }
    var values = [Double](repeating: 0, count: shape.reduce(1, *))
    _ = values.withUnsafeMutableBytes {
      H5Dread(dataset, tessera_h5t_native_double(), tessera_h5s_all(), tessera_h5s_all(), tessera_h5p_default(), $0.baseAddress)
    }
    return (values, shape)
  }

  private static func write(_ file: hid_t, _ name: String, _ values: [Double], shape: [Int],
                            type: hid_t = tessera_h5t_native_double()) {
    let dims = shape.map { hsize_t($0) }
    let space = shape.isEmpty ? H5Screate(H5S_SCALAR) : H5Screate_simple(Int32(dims.count), dims, nil)
    defer { H5Sclose(space) }
    let dataset = H5Dcreate2(file, name, type, space, tessera_h5p_default(), tessera_h5p_default(), tessera_h5p_default())
    defer { H5Dclose(dataset) }
    let count = shape.reduce(1, *)
    guard count > 0 else { return }
    if type == tessera_h5t_native_double() {
      var data = Array(values.prefix(count))
      data += Array(repeating: 0, count: count - data.count)
      _ = data.withUnsafeBytes {
        H5Dwrite(dataset, type, tessera_h5s_all(), tessera_h5s_all(), tessera_h5p_default(), $0.baseAddress)
      }
    } else {
      var data = values.prefix(count).map { $0.isFinite ? Int64(clamping: Int64(exactly: $0.rounded()) ?? 0) : 0 }
      data += Array(repeating: 0, count: count - data.count)
      _ = data.withUnsafeBytes {
        H5Dwrite(dataset, type, tessera_h5s_all(), tessera_h5s_all(), tessera_h5p_default(), $0.baseAddress)
      }
    }
  }
}
