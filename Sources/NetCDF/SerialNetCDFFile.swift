import CNetCDF

/// A NetCDF file written by one rank through the NetCDF C library (`dump netcdf`).
final class SerialNetCDFFile: NetCDFFile {
  let path: String
  private var id: Int32 = -1

  /// Creates (replaces) the file, in the CDF format `format` (NC_64BIT_OFFSET or NC_64BIT_DATA).
  init(creating path: String, format: Int32) throws {
    self.path = path
    try check(nc_create(path, format | NC_CLOBBER, &id), "cannot create the file (missing directory or no permission?)")
  }

  /// Opens an existing file to append frames to it.
  init(appendingTo path: String) throws {
    self.path = path
    try check(nc_open(path, NC_WRITE, &id), "cannot open the file to append to it")
  }

  deinit { close() }

  private func check(_ status: Int32, _ what: @autoclosure () -> String) throws {
    guard status == NC_NOERR else {
      throw NetCDFError("\(path): \(what()): \(String(cString: nc_strerror(status)))")
    }
  }

  func defineDimension(_ name: String, length: Int?) throws -> Int32 {
    var dimension: Int32 = -1
    try check(nc_def_dim(id, name, length ?? tessera_nc_unlimited(), &dimension), "define dimension '\(name)'")
    return dimension
  }

  func defineVariable(_ name: String, _ type: NetCDFType, _ dimensions: [Int32]) throws -> Int32 {
    var variable: Int32 = -1
    try check(nc_def_var(id, name, nc_type(type.rawValue), Int32(dimensions.count), dimensions, &variable),
              "define variable '\(name)'")
    return variable
  }

  func putAttribute(_ name: String, text: String, on variable: Int32?) throws {
    let bytes = Array(text.utf8)
    try check(nc_put_att_text(id, variable ?? tessera_nc_global(), name, bytes.count, bytes.map { CChar(bitPattern: $0) }),
              "write attribute '\(name)'")
  }

  func putAttribute(_ name: String, float: Float, on variable: Int32?) throws {
    var value = float
    try check(nc_put_att_float(id, variable ?? tessera_nc_global(), name, nc_type(NC_FLOAT), 1, &value),
              "write attribute '\(name)'")
  }

  func endDefinitions() throws { try check(nc_enddef(id), "end the definitions") }

  func dimension(_ name: String) throws -> (id: Int32, length: Int) {
    var dimension: Int32 = -1
    var length = 0
    try check(nc_inq_dimid(id, name, &dimension), "no dimension '\(name)' (not a trajectory Tessera or LAMMPS wrote?)")
    try check(nc_inq_dimlen(id, dimension, &length), "read the length of '\(name)'")
    return (dimension, length)
  }

  func variable(_ name: String) throws -> Int32 {
    var variable: Int32 = -1
    try check(nc_inq_varid(id, name, &variable), "no variable '\(name)' (the file has other fields than this dump?)")
    return variable
  }

  func put(text: String, _ variable: Int32, start: [Int], count: [Int]) throws {
    let bytes = Array(text.utf8).map { CChar(bitPattern: $0) }
    try check(nc_put_vara_text(id, variable, start, count, bytes), "write variable \(variable)")
  }

  func put(doubles: UnsafePointer<Double>, _ variable: Int32, start: [Int], count: [Int]) throws {
    try check(nc_put_vara_double(id, variable, start, count, doubles), "write variable \(variable)")
  }

  func putRows(doubles: UnsafePointer<Double>, _ variable: Int32, frame: Int, runs: [RowRun], width: Int) throws {
    var offset = 0
    for run in runs {
      try check(nc_put_vara_double(id, variable, [frame, run.start, 0], [1, run.length, width], doubles + offset),
                "write variable \(variable)")
      offset += run.length * width
    }
  }

  func putRows(integers: UnsafePointer<Int32>, _ variable: Int32, frame: Int, runs: [RowRun], width: Int) throws {
    var offset = 0
    for run in runs {
      try check(nc_put_vara_int(id, variable, [frame, run.start, 0], [1, run.length, width], integers + offset),
                "write variable \(variable)")
      offset += run.length * width
    }
  }

  func sync() throws { try check(nc_sync(id), "flush the file") }

  func close() {
    if id >= 0 { nc_close(id) }
    id = -1
  }
}
