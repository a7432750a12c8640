import CHDF5

/// Why a model file could not be edited: the file's path and what failed.
public struct ModelFileEditingError: Error, CustomStringConvertible {
  public let description: String
}

/// Replaces the `json` attribute of the DeePMD-kit `.dp` file at `path` with `text` (a variable-length
/// UTF-8 string, as DeePMD-kit writes it): how the fuzzer damages model documents and how tests make
/// model variants.
public func replaceModelDocument(path: String, text: String) throws {
  let file = H5Fopen(path, tessera_h5f_acc_rdwr(), tessera_h5p_default())
  guard file >= 0 else { throw ModelFileEditingError(description: "cannot open \(path) for editing") }
  defer { H5Fclose(file) }
  H5Adelete(file, "json")
  let type = H5Tcopy(tessera_h5t_c_s1())
  defer { H5Tclose(type) }
  H5Tset_size(type, tessera_h5t_variable())
  H5Tset_cset(type, H5T_CSET_UTF8)
  let space = H5Screate(H5S_SCALAR)
  defer { H5Sclose(space) }
  let attribute = H5Acreate2(file, "json", type, space, tessera_h5p_default(), tessera_h5p_default())
  defer { H5Aclose(attribute) }
  try text.withCString { pointer in
    var p: UnsafePointer<CChar>? = pointer
    guard H5Awrite(attribute, type, &p) >= 0 else {
      throw ModelFileEditingError(description: "cannot write json to \(path)")
    }
  }
}
