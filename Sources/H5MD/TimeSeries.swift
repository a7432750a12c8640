import CHDF5

/// An H5MD time-dependent element: a group holding `step`, `time` and `value`, each one frame longer
/// after every append. `value` is [frames][rows][columns…]; ranks write disjoint sets of rows of a frame
/// in one collective call, and `step`/`time` are written by rank 0 (the others take part selecting nothing).
final class TimeSeries {
  let group: hid_t
  private let step: hid_t, time: hid_t, value: hid_t
  /// One frame's shape, e.g. [atoms, 3] for positions, [3] or [3, 3] for box edges.
  private let frameShape: [Int]
  private let memoryType: hid_t
  private let location: HDF5Location
  private(set) var frames = 0

  /// `fileType`/`memoryType`: how values are stored and handed over; `compression`: deflate level, 0 for none.
  init(in parent: hid_t, name: String, frameShape: [Int], fileType: hid_t, memoryType: hid_t, compression: Int,
       location: HDF5Location) throws {
    self.frameShape = frameShape
    self.memoryType = memoryType
    self.location = location
    group = try location.createGroup(parent, name)
    let unlimited = tessera_h5s_unlimited()
    // About 1 MiB per chunk: one frame of up to ~44k atoms' vectors, fewer rows per chunk above that.
    let rowBytes = 8 * frameShape.dropFirst().reduce(1, *)
    let chunkRows = max(1, min(frameShape.first ?? 1, (1 << 20) / rowBytes))
    value = try TimeSeries.createDataset(group, "value", type: fileType, frameShape: frameShape,
                                         chunk: [1, chunkRows] + frameShape.dropFirst(), compression: compression,
                                         unlimited: unlimited, location: location)
    step = try TimeSeries.createDataset(group, "step", type: tessera_h5t_std_i64le(), frameShape: [], chunk: [1024],
                                        compression: 0, unlimited: unlimited, location: location)
    time = try TimeSeries.createDataset(group, "time", type: tessera_h5t_ieee_f64le(), frameShape: [], chunk: [1024],
                                        compression: 0, unlimited: unlimited, location: location)
  }

  private static func createDataset(_ group: hid_t, _ name: String, type: hid_t, frameShape: [Int], chunk: [Int],
                                    compression: Int, unlimited: hsize_t, location: HDF5Location) throws -> hid_t {
    let space = try location.dataspace([0] + frameShape, maximum: [unlimited] + frameShape.map { hsize_t($0) })
    defer { H5Sclose(space) }
    let properties = try location.handle(H5Pcreate(tessera_h5p_dataset_create()), "create dataset properties")
    defer { H5Pclose(properties) }
    try location.check(H5Pset_chunk(properties, Int32(chunk.count), chunk.map { hsize_t(max($0, 1)) }),
                       "set the chunks of '\(name)'")
    // Every element of a frame is written, so filling chunks first would only cost time.
    try location.check(H5Pset_fill_time(properties, H5D_FILL_TIME_NEVER), "set the fill time of '\(name)'")
    if compression > 0 {
      try location.check(H5Pset_shuffle(properties), "add the shuffle filter to '\(name)'")
      try location.check(H5Pset_deflate(properties, UInt32(compression)), "add deflate compression to '\(name)'")
    }
    let p = tessera_h5p_default()
    return try location.handle(H5Dcreate2(group, name, type, space, p, properties, p), "create the dataset '\(name)'")
  }

  /// Adds a frame: this rank's `rows`, whose values lie contiguously, in row order, at `values`.
  func append(step stepValue: Int, time timeValue: Double, rows: [RowPattern],
              values: UnsafeRawPointer?, isRoot: Bool, transfer: hid_t) throws {
    let frame = frames
    var s = Int64(stepValue), t = timeValue
    let frameRow = isRoot ? [RowPattern(start: frame, length: 1, stride: 1, repeats: 1)] : []
    try write(step, frameShape: [], rows: frameRow, at: frame, type: tessera_h5t_native_int64(),
              values: &s, transfer: transfer, name: "step")
    try write(time, frameShape: [], rows: frameRow, at: frame, type: tessera_h5t_native_double(),
              values: &t, transfer: transfer, name: "time")
    try write(value, frameShape: frameShape, rows: rows, at: frame, type: memoryType, values: values,
              transfer: transfer, name: "value")
    frames += 1
  }

  /// Grows `dataset` to `frame + 1` frames and writes the selected rows of that frame. A scalar series
  /// (`frameShape` empty) has one row per frame: `rows` selects the frame itself.
  private func write(_ dataset: hid_t, frameShape: [Int], rows: [RowPattern], at frame: Int,
                     type: hid_t, values: UnsafeRawPointer?, transfer: hid_t, name: String) throws {
    let extent = [hsize_t(frame + 1)] + frameShape.map { hsize_t($0) }
    try location.check(H5Dset_extent(dataset, extent), "extend '\(name)' to \(frame + 1) frames")
    let fileSpace = try location.handle(H5Dget_space(dataset), "get the dataspace of '\(name)'")
    defer { H5Sclose(fileSpace) }
    let columns = frameShape.dropFirst().map { hsize_t($0) }
    var elements = 0
    for (k, p) in rows.enumerated() {
      let operation = k == 0 ? H5S_SELECT_SET : H5S_SELECT_OR
      let status: herr_t
      if frameShape.isEmpty {
        status = H5Sselect_hyperslab(fileSpace, operation, [hsize_t(p.start)], nil, [1], nil)
        elements += 1
      } else {
        let start = [hsize_t(frame), hsize_t(p.start)] + columns.map { _ in 0 }
        let stride = [1, hsize_t(p.stride)] + columns.map { _ in 1 }
        let count = [1, hsize_t(p.repeats)] + columns.map { _ in 1 }
        let block = [1, hsize_t(p.length)] + columns
        status = H5Sselect_hyperslab(fileSpace, operation, start, stride, count, block)
        elements += p.repeats * Int(block.reduce(1, *))
      }
      try location.check(status, "select rows of '\(name)'")
    }
    if rows.isEmpty { try location.check(H5Sselect_none(fileSpace), "select nothing in '\(name)'") }
    let memorySpace = try location.dataspace([max(elements, 1)])
    defer { H5Sclose(memorySpace) }
    if elements == 0 { try location.check(H5Sselect_none(memorySpace), "select nothing in memory") }
    try location.check(H5Dwrite(dataset, type, memorySpace, fileSpace, transfer, values),
                       "write frame \(frame) of '\(name)'")
  }

  func close() {
    H5Dclose(value)
    H5Dclose(step)
    H5Dclose(time)
    H5Gclose(group)
  }
}
