import CMPI
import CPnetCDF

/// A NetCDF file written collectively by every rank through PnetCDF (`dump netcdf/mpiio`): every call is
/// made by every rank; per-atom rows go in one collective call per variable, each rank its own runs.
final class ParallelNetCDFFile: NetCDFFile {
  let path: String
  private var id: Int32 = -1

  /// Creates (replaces) the file on every rank, in the CDF format `format`.
  init(creating path: String, format: Int32) throws {
    self.path = path
    try check(tessera_ncmpi_create_world(path, format | NC_CLOBBER, &id),
              "cannot create the file (missing directory or no permission?)")
  }

  init(appendingTo path: String) throws {
    self.path = path
    try check(tessera_ncmpi_open_world(path, NC_WRITE, &id), "cannot open the file to append to it")
  }

  deinit { close() }

  private func check(_ status: Int32, _ what: @autoclosure () -> String) throws {
    guard status == NC_NOERR else {
      throw NetCDFError("\(path): \(what()): \(String(cString: ncmpi_strerror(status)))")
    }
  }

  func defineDimension(_ name: String, length: Int?) throws -> Int32 {
    var dimension: Int32 = -1
    try check(ncmpi_def_dim(id, name, length.map { MPI_Offset($0) } ?? tessera_ncmpi_unlimited(), &dimension),
              "define dimension '\(name)'")
    return dimension
  }

  func defineVariable(_ name: String, _ type: NetCDFType, _ dimensions: [Int32]) throws -> Int32 {
    var variable: Int32 = -1
    try check(ncmpi_def_var(id, name, nc_type(type.rawValue), Int32(dimensions.count), dimensions, &variable),
              "define variable '\(name)'")
    return variable
  }

  func putAttribute(_ name: String, text: String, on variable: Int32?) throws {
    let bytes = Array(text.utf8).map { CChar(bitPattern: $0) }
    try check(ncmpi_put_att_text(id, variable ?? tessera_ncmpi_global(), name, MPI_Offset(bytes.count), bytes),
              "write attribute '\(name)'")
  }

  func putAttribute(_ name: String, float: Float, on variable: Int32?) throws {
    var value = float
    try check(ncmpi_put_att_float(id, variable ?? tessera_ncmpi_global(), name, nc_type(NC_FLOAT), 1, &value),
              "write attribute '\(name)'")
  }

  func endDefinitions() throws { try check(ncmpi_enddef(id), "end the definitions") }

  func dimension(_ name: String) throws -> (id: Int32, length: Int) {
    var dimension: Int32 = -1
    var length: MPI_Offset = 0
    try check(ncmpi_inq_dimid(id, name, &dimension), "no dimension '\(name)' (not a trajectory Tessera or LAMMPS wrote?)")
    try check(ncmpi_inq_dimlen(id, dimension, &length), "read the length of '\(name)'")
    return (dimension, Int(length))
  }

  func variable(_ name: String) throws -> Int32 {
    var variable: Int32 = -1
    try check(ncmpi_inq_varid(id, name, &variable), "no variable '\(name)' (the file has other fields than this dump?)")
    return variable
  }

  func put(text: String, _ variable: Int32, start: [Int], count: [Int]) throws {
    let bytes = Array(text.utf8).map { CChar(bitPattern: $0) } + [0]
    try check(ncmpi_put_vara_text_all(id, variable, start.map { MPI_Offset($0) }, count.map { MPI_Offset($0) }, bytes),
              "write variable \(variable)")
  }

  func put(doubles: UnsafePointer<Double>, _ variable: Int32, start: [Int], count: [Int]) throws {
    try check(ncmpi_put_vara_double_all(id, variable, start.map { MPI_Offset($0) }, count.map { MPI_Offset($0) }, doubles),
              "write variable \(variable)")
  }

  func putRows(doubles: UnsafePointer<Double>, _ variable: Int32, frame: Int, runs: [RowRun], width: Int) throws {
    try withRuns(frame: frame, runs: runs, width: width) { n, starts, counts in
      try check(ncmpi_put_varn_double_all(id, variable, n, starts, counts, doubles), "write variable \(variable)")
    }
  }

  func putRows(integers: UnsafePointer<Int32>, _ variable: Int32, frame: Int, runs: [RowRun], width: Int) throws {
    try withRuns(frame: frame, runs: runs, width: width) { n, starts, counts in
      try check(ncmpi_put_varn_int_all(id, variable, n, starts, counts, integers), "write variable \(variable)")
    }
  }

  /// PnetCDF's varn form of the runs: one start and one count array per run (3 offsets each; a
  /// `[frame][atom]` variable reads only the first two).
  private func withRuns(frame: Int, runs: [RowRun], width: Int,
                        _ body: (Int32, UnsafePointer<UnsafeMutablePointer<MPI_Offset>?>,
                                 UnsafePointer<UnsafeMutablePointer<MPI_Offset>?>) throws -> Void) throws {
    var starts = [MPI_Offset](repeating: 0, count: 3 * max(runs.count, 1))
    var counts = starts
    for (k, run) in runs.enumerated() {
      starts[3 * k] = MPI_Offset(frame)
      starts[3 * k + 1] = MPI_Offset(run.start)
      counts[3 * k] = 1
      counts[3 * k + 1] = MPI_Offset(run.length)
      counts[3 * k + 2] = MPI_Offset(width)
    }
    try starts.withUnsafeMutableBufferPointer { s in
      try counts.withUnsafeMutableBufferPointer { c in
        let startPointers: [UnsafeMutablePointer<MPI_Offset>?] = (0..<max(runs.count, 1)).map { s.baseAddress! + 3 * $0 }
        let countPointers: [UnsafeMutablePointer<MPI_Offset>?] = (0..<max(runs.count, 1)).map { c.baseAddress! + 3 * $0 }
        try body(Int32(runs.count), startPointers, countPointers)
      }
    }
  }

  func sync() throws { try check(ncmpi_sync(id), "flush the file") }

  func close() {
    if id >= 0 { ncmpi_close(id) }
    id = -1
  }
}
