import CHDF5
import Foundation

/// Thin checked wrappers over the HDF5 calls the writer makes. Every call that can fail throws an
/// error naming the file and the object; handles are closed by their owners (`defer` at the call site).
struct HDF5Location {
  let path: String

  func check(_ status: herr_t, _ what: @autoclosure () -> String) throws {
    guard status >= 0 else { throw H5MDError("\(path): HDF5 could not \(what())") }
  }

  func handle(_ id: hid_t, _ what: @autoclosure () -> String) throws -> hid_t {
    guard id >= 0 else { throw H5MDError("\(path): HDF5 could not \(what())") }
    return id
  }

  func createGroup(_ parent: hid_t, _ name: String) throws -> hid_t {
    let p = tessera_h5p_default()
    return try handle(H5Gcreate2(parent, name, p, p, p), "create the group '\(name)'")
  }

  /// A variable-length UTF-8 string type (h5py reads these back as `str`).
  private func stringType() throws -> hid_t {
    let type = try handle(H5Tcopy(tessera_h5t_c_s1()), "create a string type")
    try check(H5Tset_size(type, tessera_h5t_variable()), "size a string type")
    try check(H5Tset_cset(type, H5T_CSET_UTF8), "set a string type's character set")
    return type
  }

  /// A string attribute, or an array of strings when `values` has more than one element or `array` is set.
  func writeAttribute(_ object: hid_t, _ name: String, strings values: [String], array: Bool = false) throws {
    let type = try stringType()
    defer { H5Tclose(type) }
    let space = try dataspace(array || values.count != 1 ? [values.count] : [])
    defer { H5Sclose(space) }
    let attribute = try handle(H5Acreate2(object, name, type, space, tessera_h5p_default(), tessera_h5p_default()),
                               "create the attribute '\(name)'")
    defer { H5Aclose(attribute) }
    let copies = values.map { strdup($0) }
    defer { copies.forEach { free($0) } }
    var pointers = copies.map { UnsafePointer<CChar>($0) }
    try check(H5Awrite(attribute, type, &pointers), "write the attribute '\(name)'")
  }

  func writeAttribute(_ object: hid_t, _ name: String, integers values: [Int32], array: Bool = false) throws {
    let space = try dataspace(array || values.count != 1 ? [values.count] : [])
    defer { H5Sclose(space) }
    let attribute = try handle(H5Acreate2(object, name, tessera_h5t_std_i32le(), space, tessera_h5p_default(),
                                          tessera_h5p_default()), "create the attribute '\(name)'")
    defer { H5Aclose(attribute) }
    var copy = values
    try check(H5Awrite(attribute, tessera_h5t_native_int32(), &copy), "write the attribute '\(name)'")
  }

  /// A simple dataspace of these dimensions (scalar when empty); `maximum` makes it extendable.
  func dataspace(_ dims: [Int], maximum: [hsize_t]? = nil) throws -> hid_t {
    if dims.isEmpty { return try handle(H5Screate(H5S_SCALAR), "create a scalar dataspace") }
    let current = dims.map { hsize_t($0) }
    if var maximum {
      return try handle(H5Screate_simple(Int32(dims.count), current, &maximum), "create a dataspace")
    }
    return try handle(H5Screate_simple(Int32(dims.count), current, nil), "create a dataspace")
  }
}
