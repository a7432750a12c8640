import CHDF5
@testable import DeepPotential
import Foundation
import ModelFileEditing
import TesseraTestSupport

/// Copies of the reference models with their JSON document edited: variants DeePMD-kit can write
/// (type_one_side, exclusions, protection) and models Tessera must refuse.
enum ModelEditing {
  static func modelPath(_ name: String) -> String { inputPath("models/\(name)/\(name).dp") }

  /// A copy of model `name` whose document `edit` has changed, in a scratch directory.
  static func copy(_ name: String, edit: (inout JSONValue) -> Void) throws -> String {
    let directory = try makeScratchDirectory("model-\(name)")
    let path = directory.appendingPathComponent("\(name).dp").path
    try FileManager.default.copyItem(atPath: modelPath(name), toPath: path)
    try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: path)
    // Read through a file handle that is closed again before the file is reopened for writing.
    var document = try ModelFile(path: path).rootNode().value
    edit(&document)
    let text = String(decoding: try JSONEncoder().encode(document), as: UTF8.self)
    try replaceModelDocument(path: path, text: text)
    return path
  }

  /// Replaces a root dataset with an unwritten float64 one of `shape` (HDF5 allocates on write, so
  /// the header may claim far more than the file holds).
  static func replaceDataset(path: String, name: String, shape: [Int]) throws {
    let file = H5Fopen(path, tessera_h5f_acc_rdwr(), tessera_h5p_default())
    guard file >= 0 else { throw DeepPotentialError("cannot reopen \(path)") }
    defer { H5Fclose(file) }
    H5Ldelete(file, name, tessera_h5p_default())
    let dims = shape.map { hsize_t($0) }
    let space = H5Screate_simple(Int32(dims.count), dims, nil)
    defer { H5Sclose(space) }
    let dataset = H5Dcreate2(file, name, tessera_h5t_native_double(), space, tessera_h5p_default(),
                             tessera_h5p_default(), tessera_h5p_default())
    guard dataset >= 0 else { throw DeepPotentialError("cannot create \(name) in \(path)") }
    H5Dclose(dataset)
  }
}

extension JSONValue: Encodable {
  public func encode(to encoder: Encoder) throws {
    var container = encoder.singleValueContainer()
    switch self {
    case .null: try container.encodeNil()
    case .bool(let b): try container.encode(b)
    case .number(let x): try container.encode(x)
    case .string(let s): try container.encode(s)
    case .array(let items): try container.encode(items)
    case .object(let members): try container.encode(members)
    }
  }

  /// The value at a dotted path ("model.descriptor.type_one_side"); list items by index.
  subscript(path path: String) -> JSONValue {
    get { lookup(path.split(separator: ".").map(String.init)) }
    set { assign(path.split(separator: ".").map(String.init), newValue) }
  }

  private func lookup(_ keys: [String]) -> JSONValue {
    guard let key = keys.first else { return self }
    switch self {
    case .object(let members): return (members[key] ?? .null).lookup(Array(keys.dropFirst()))
    case .array(let items): return Int(key).map { items[$0].lookup(Array(keys.dropFirst())) } ?? .null
    default: return .null
    }
  }

  private mutating func assign(_ keys: [String], _ value: JSONValue) {
    guard let key = keys.first else { self = value; return }
    switch self {
    case .object(var members):
      var child = members[key] ?? .null
      child.assign(Array(keys.dropFirst()), value)
      members[key] = child
      self = .object(members)
    case .array(var items):
      guard let index = Int(key) else { return }
      items[index].assign(Array(keys.dropFirst()), value)
      self = .array(items)
    default: return
    }
  }
}
