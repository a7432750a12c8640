import Foundation
import SwiftProtobuf
import TensorFlowGraph

/// A TensorFlow frozen graph (`.pb`, a serialized GraphDef) as DeePMD-kit's `dp freeze` writes it:
/// every trained variable has become a `Const` node whose `value` attribute holds the tensor. This
/// type only finds nodes and decodes their tensors; `FrozenGraphReader` gives them meaning.
struct FrozenGraph {
  let path: String
  let nodes: [Tensorflow_NodeDef]
  private let indexByName: [String: Int]

  init(path: String) throws {
    guard let data = FileManager.default.contents(atPath: path) else {
      throw DeepPotentialError("\(path): cannot read the model file (missing or not readable)")
    }
    let graph: Tensorflow_GraphDef
    do {
      graph = try Tensorflow_GraphDef(serializedBytes: data)
    } catch {
      throw DeepPotentialError("\(path): not a TensorFlow frozen graph (the GraphDef protobuf does not decode: "
        + "\(Self.describe(error)); truncated, or not a .pb model?)")
    }
    guard !graph.node.isEmpty else {
      throw DeepPotentialError("\(path): not a TensorFlow frozen graph (no graph nodes in \(data.count) bytes)")
    }
    self.init(graph, path: path)
  }

  /// A decoded graph; `path` names it in messages.
  init(_ graph: Tensorflow_GraphDef, path: String) {
    self.path = path
    nodes = graph.node
    var index = [String: Int]()
    for (i, node) in graph.node.enumerated() { index[node.name] = i }
    indexByName = index
  }

  private static func describe(_ error: Error) -> String {
    switch error as? BinaryDecodingError {
    case .truncated?: "the data ends inside a message"
    case .malformedProtobuf?: "malformed protobuf data"
    case .invalidUTF8?: "a string field is not UTF-8"
    case .messageDepthLimit?: "messages nested too deeply"
    default: "\(error)"
    }
  }

  func node(_ name: String) -> Tensorflow_NodeDef? {
    indexByName[name].map { nodes[$0] }
  }

  func has(_ name: String) -> Bool { indexByName[name] != nil }

  /// The constant tensor of `name`, looking through the `Identity` and same-type `Cast` nodes that
  /// stand between a frozen variable and its use.
  func constant(_ name: String) throws -> GraphTensor {
    var current = name
    for _ in 0..<8 {
      guard let node = node(current) else {
        throw DeepPotentialError("\(path): the graph has no node '\(current)' (truncated file, or not a DeePMD-kit model of a supported kind?)")
      }
      if node.op == "Const" {
        guard let value = node.attr["value"], case .tensor(let tensor)? = value.value else {
          throw DeepPotentialError("\(path): node '\(current)' is a Const without a tensor value")
        }
        return try GraphTensor(tensor, node: current, path: path)
      }
      guard ["Identity", "Cast"].contains(node.op), let input = node.input.first else {
        throw DeepPotentialError("\(path): node '\(current)' is a '\(node.op)', expected a constant (not a frozen graph?)")
      }
      current = Self.nodeName(ofInput: input)
    }
    throw DeepPotentialError("\(path): node '\(name)': no constant behind a chain of Identity/Cast nodes")
  }

  /// "scope/op:1" and "^scope/op" (a control input) both name the node "scope/op".
  static func nodeName(ofInput input: String) -> String {
    var name = input.hasPrefix("^") ? String(input.dropFirst()) : input
    if let colon = name.lastIndex(of: ":"), name[name.index(after: colon)...].allSatisfy(\.isNumber) {
      name = String(name[..<colon])
    }
    return name
  }
}

/// A decoded constant: its shape and its values as Double, Int or String, by data type.
struct GraphTensor {
  let node: String
  let path: String
  let dataType: Tensorflow_DataType
  let shape: [Int]
  private let tensor: Tensorflow_TensorProto

  init(_ tensor: Tensorflow_TensorProto, node: String, path: String) throws {
    self.node = node
    self.path = path
    self.tensor = tensor
    dataType = tensor.dtype
    guard !tensor.tensorShape.unknownRank, tensor.tensorShape.dim.allSatisfy({ $0.size >= 0 }) else {
      throw DeepPotentialError("\(path): node '\(node)': the constant has no definite shape")
    }
    shape = tensor.tensorShape.dim.map { Int($0.size) }
  }

  static let largestRepeatedCount = 1 << 24

  /// The number of elements the shape holds (1 for a scalar), or nil when it overflows.
  var count: Int? {
    var n = 1
    for d in shape {
      let (product, overflow) = n.multipliedReportingOverflow(by: d)
      if overflow { return nil }
      n = product
    }
    return n
  }

  func fail(_ what: String) -> DeepPotentialError {
    DeepPotentialError("\(path): node '\(node)': \(what)")
  }

  /// TensorFlow stores values either as raw little-endian bytes (`tensor_content`) or in the typed
  /// repeated field, where fewer values than the shape holds repeat the last one (a single value
  /// fills the tensor, as `tf.constant(0.5, shape=…)` writes it).
  private func values<T: FixedWidthInteger>(typed: [T]) throws -> [T] {
    guard let count else { throw fail("shape \(shape) is too large") }
    let content = tensor.tensorContent
    let width = MemoryLayout<T>.size
    if !content.isEmpty {
      guard content.count % width == 0, content.count / width == count else {
        throw fail("holds \(content.count) bytes for shape \(shape) (\(count) values of \(width) bytes expected; truncated?)")
      }
      // One copy of the bytes (megabytes for the fitting matrices and tables), then the byte order.
      let copied = [T](unsafeUninitializedCapacity: count) { buffer, initialized in
        content.withUnsafeBytes { UnsafeMutableRawBufferPointer(buffer).copyMemory(from: $0) }
        initialized = count
      }
      return copied.map(T.init(littleEndian:))
    }
    if typed.count == count { return typed }
    // A damaged shape can claim any size; no constant Tessera reads is repeated beyond this.
    guard count <= Self.largestRepeatedCount else { throw fail("shape \(shape) is too large for \(typed.count) stored values") }
    guard let last = typed.last, typed.count < count else {
      throw fail(typed.isEmpty && count > 0 ? "holds no values for shape \(shape)" : "holds \(typed.count) values for shape \(shape)")
    }
    return typed + [T](repeating: last, count: count - typed.count)
  }

  /// Float64 values (only DT_DOUBLE: Tessera evaluates float64 models only).
  func doubles() throws -> [Double] {
    guard dataType == .dtDouble else {
      throw fail("expected float64 values, found \(dataType) (float64 models only)")
    }
    let v = try values(typed: tensor.doubleVal.map(\.bitPattern)).map(Double.init(bitPattern:))
    guard v.allSatisfy(\.isFinite) else { throw fail("holds NaN or infinite values") }
    return v
  }

  func doubles(shape expected: [Int]) throws -> [Double] {
    guard shape == expected else { throw fail("expected shape \(expected), found \(shape)") }
    return try doubles()
  }

  func double() throws -> Double {
    let v = try doubles()
    guard v.count == 1 else { throw fail("expected one number, found shape \(shape)") }
    return v[0]
  }

  func ints() throws -> [Int] {
    switch dataType {
    case .dtInt32:
      return try values(typed: tensor.intVal).map(Int.init)
    case .dtInt64:
      return try values(typed: tensor.int64Val).map(Int.init)
    default:
      throw fail("expected integers, found \(dataType)")
    }
  }

  func int() throws -> Int {
    let v = try ints()
    guard v.count == 1 else { throw fail("expected one integer, found shape \(shape)") }
    return v[0]
  }

  /// A scalar DT_STRING, which TensorFlow keeps only in `string_val`.
  func string() throws -> String {
    guard dataType == .dtString, tensor.stringVal.count == 1,
          let text = String(data: tensor.stringVal[0], encoding: .utf8) else {
      throw fail("expected one UTF-8 string, found \(dataType) with \(tensor.stringVal.count) values")
    }
    return text
  }
}

extension FrozenGraph {
  /// Whether the file begins with HDF5's signature, as a `.dp` does whatever it is named.
  static func startsWithHDF5Signature(path: String) -> Bool {
    guard let handle = FileHandle(forReadingAtPath: path) else { return false }
    defer { try? handle.close() }
    let signature: [UInt8] = [0x89, 0x48, 0x44, 0x46, 0x0D, 0x0A, 0x1A, 0x0A]
    return (try? handle.read(upToCount: signature.count)).map { Array($0) == signature } ?? false
  }
}
