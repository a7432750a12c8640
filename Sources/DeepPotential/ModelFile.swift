import CHDF5
import Foundation

/// A problem with a model file or its use, worded for the user (the path or key is in the text).
public struct DeepPotentialError: Error, CustomStringConvertible, Sendable {
  public let description: String
  public init(_ description: String) { self.description = description }
}

/// An array read from a `.dp` dataset, converted to Double, with its numpy shape and stored width.
struct StoredArray {
  let values: [Double]
  let shape: [Int]
  /// Bytes per element in the file: 8 for float64, 4 for float32.
  let storedByteWidth: Int
}

/// A DeePMD-kit v3 `.dp` file: HDF5 whose root attribute `json` holds the model document, with
/// every array stored as a root dataset the document names by path (spec §1.1).
final class ModelFile {
  let path: String
  private let file: hid_t

  init(path: String) throws {
    self.path = path
    guard FileManager.default.isReadableFile(atPath: path) else {
      throw DeepPotentialError("\(path): cannot read the model file (missing or not readable)")
    }
    // HDF5 prints its own error stack on every failed call; Tessera reports errors itself.
    H5Eset_auto2(tessera_h5e_default(), nil, nil)
    let handle = H5Fopen(path, tessera_h5f_acc_rdonly(), tessera_h5p_default())
    guard handle >= 0 else {
      throw DeepPotentialError("\(path): not a readable HDF5 file (a DeePMD-kit .dp model is HDF5; truncated or wrong format?)")
    }
    file = handle
  }

  deinit { H5Fclose(file) }

  /// The root attribute `json`, a variable-length UTF-8 string.
  func documentText() throws -> String {
    let attribute = H5Aopen(file, "json", tessera_h5p_default())
    guard attribute >= 0 else {
      throw DeepPotentialError("\(path): no root attribute 'json' (not a DeePMD-kit .dp model)")
    }
    defer { H5Aclose(attribute) }
    let fileType = H5Aget_type(attribute)
    defer { H5Tclose(fileType) }
    guard H5Tget_class(fileType) == H5T_STRING, H5Tis_variable_str(fileType) > 0 else {
      throw DeepPotentialError("\(path): root attribute 'json' is not a variable-length string")
    }
    let memoryType = H5Tcopy(tessera_h5t_c_s1())
    defer { H5Tclose(memoryType) }
    H5Tset_size(memoryType, tessera_h5t_variable())
    H5Tset_cset(memoryType, H5T_CSET_UTF8)
    var pointer: UnsafeMutablePointer<CChar>? = nil
    guard H5Aread(attribute, memoryType, &pointer) >= 0, let text = pointer else {
      throw DeepPotentialError("\(path): cannot read root attribute 'json'")
    }
    defer { H5free_memory(text) }
    return String(cString: text)
  }

  /// The dataset at `datasetPath` (e.g. "/variable_0012"), converted to Double by HDF5.
  func array(_ datasetPath: String, for key: String) throws -> StoredArray {
    let dataset = H5Dopen2(file, datasetPath, tessera_h5p_default())
    guard dataset >= 0 else {
      throw DeepPotentialError("\(path): \(key) refers to dataset '\(datasetPath)', which is missing")
    }
    defer { H5Dclose(dataset) }
    let type = H5Dget_type(dataset)
    defer { H5Tclose(type) }
    let byteWidth = H5Tget_size(type)
    guard H5Tget_class(type) == H5T_FLOAT, byteWidth == 8 || byteWidth == 4 else {
      throw DeepPotentialError("\(path): \(key) (dataset '\(datasetPath)') is not a float32/float64 array")
    }
    let space = H5Dget_space(dataset)
    defer { H5Sclose(space) }
    let rank = Int(H5Sget_simple_extent_ndims(space))
    guard rank >= 0 else { throw DeepPotentialError("\(path): \(key): unreadable dataspace") }
    var dims = [hsize_t](repeating: 0, count: max(rank, 1))
    H5Sget_simple_extent_dims(space, &dims, nil)
    let shape = dims.prefix(rank).map { Int($0) }
    // A damaged header can claim any shape; the file must hold the bytes before any are allocated.
    var fileSize: hsize_t = 0
    H5Fget_filesize(file, &fileSize)
    let count = shape.reduce(1) { $0.multipliedReportingOverflow(by: $1).overflow ? Int.max : $0 * $1 }
    guard count <= Int(fileSize) / byteWidth else {
      throw DeepPotentialError("\(path): \(key) (dataset '\(datasetPath)') claims shape \(shape), more than the file holds")
    }
    var values = [Double](repeating: 0, count: count)
    if count > 0 {
      let status = values.withUnsafeMutableBytes {
        H5Dread(dataset, tessera_h5t_native_double(), tessera_h5s_all(), tessera_h5s_all(),
                tessera_h5p_default(), $0.baseAddress)
      }
      guard status >= 0 else {
        throw DeepPotentialError("\(path): \(key) (dataset '\(datasetPath)') cannot be read (truncated file?)")
      }
    }
    guard values.allSatisfy(\.isFinite) else {
      throw DeepPotentialError("\(path): \(key) (dataset '\(datasetPath)') holds NaN or infinite values")
    }
    return StoredArray(values: values, shape: shape, storedByteWidth: byteWidth)
  }
}
