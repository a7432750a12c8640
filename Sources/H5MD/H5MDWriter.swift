import Atoms
import CHDF5
import Communication
import Foundation
import Geometry

/// An H5MD 1.1 trajectory (`h5md` metadata, `particles/all/{position,image,velocity,force,species}` and
/// `particles/all/box` with time-dependent `edges`) written collectively by every rank with parallel
/// HDF5: each rank writes its own atoms' rows, ordered by atom id, in one collective call per dataset;
/// nothing is gathered. Every call is collective: all ranks create, write and close together.
///
/// Values carry no `unit` attributes (as LAMMPS's dump h5md): MDAnalysis reads them with
/// `convert_units=False`. A frame is flushed to the file once written, so a job killed between frames
/// leaves every earlier frame readable.
public final class H5MDWriter {
  public let path: String
  private let layout: H5MDLayout
  private let comm: Communicator
  private let location: HDF5Location
  private let atomCount: Int
  private let triclinic: Bool
  private let rows: RowIndex
  private var file: hid_t = -1
  private var transfer: hid_t = -1
  private var groups: [hid_t] = []
  private var series: [H5MDLayout.Element: TimeSeries] = [:]
  private var edges: TimeSeries?
  // Reused from frame to frame: this rank's atoms in row order, and the values packed in that order.
  private var order: [Int] = []
  private var rowPatterns: [RowPattern] = []
  private var reals: [Double] = [0]
  private var integers: [Int32] = [0]

  /// Creates (truncates) the file and its layout for the atoms the ranks hold now.
  public init(path: String, layout: H5MDLayout, comm: Communicator, atoms: AtomStore, box: Box,
              creator: String, creatorVersion: String) throws {
    self.path = path
    self.layout = layout
    self.comm = comm
    location = HDF5Location(path: path)
    triclinic = box.isTriclinic
    atomCount = comm.allReduce(atoms.ownedCount, .sum)
    guard atomCount < 1 << 31 else { throw H5MDError("\(path): an h5md dump holds at most 2^31 - 1 atoms") }
    do {
      rows = try RowIndex(ids: UnsafeBufferPointer(start: atoms.tag, count: atoms.ownedCount), total: atomCount, comm: comm)
    } catch {
      throw H5MDError("\(path): \(error)")
    }
    // HDF5 prints its own error stack on failures; Tessera reports them itself.
    H5Eset_auto2(tessera_h5e_default(), nil, nil)
    do {
      try create(creator: creator, creatorVersion: creatorVersion, periodic: box.periodic)
    } catch {
      // A file this writer created but could not lay out is removed; one it could not create is left alone.
      let created = file >= 0
      close()
      if created && comm.isRoot { unlink(path) }
      throw error
    }
  }

  deinit { close() }

  private func create(creator: String, creatorVersion: String, periodic: [Bool]) throws {
    let access = try location.handle(H5Pcreate(tessera_h5p_file_access()), "create file access properties")
    defer { H5Pclose(access) }
    let parallel = tessera_h5p_set_fapl_mpio_world(access)
    guard parallel >= 0 else { throw H5MDError("\(path): HDF5 could not set up parallel (MPI-IO) access") }
    file = H5Fcreate(path, tessera_h5f_acc_trunc(), tessera_h5p_default(), access)
    guard file >= 0 else { throw H5MDError("\(path): cannot create the H5MD file (missing directory or no permission?)") }
    transfer = try location.handle(H5Pcreate(tessera_h5p_dataset_xfer()), "create transfer properties")
    if parallel == 1 {
      try location.check(tessera_h5p_set_dxpl_collective(transfer), "set collective transfers")
    }

    let h5md = try group(file, "h5md")
    try location.writeAttribute(h5md, "version", integers: [1, 1], array: true)
    let author = try group(h5md, "author")
    try location.writeAttribute(author, "name", strings: [layout.author])
    let creatorGroup = try group(h5md, "creator")
    try location.writeAttribute(creatorGroup, "name", strings: [creator])
    try location.writeAttribute(creatorGroup, "version", strings: [creatorVersion])

    let particles = try group(file, "particles")
    let all = try group(particles, "all")
    let boxGroup = try group(all, "box")
    try location.writeAttribute(boxGroup, "dimension", integers: [3])
    try location.writeAttribute(boxGroup, "boundary", strings: periodic.map { $0 ? "periodic" : "none" }, array: true)
    if layout.box {
      edges = try TimeSeries(in: boxGroup, name: "edges", frameShape: triclinic ? [3, 3] : [3],
                             fileType: tessera_h5t_ieee_f64le(), memoryType: tessera_h5t_native_double(),
                             compression: 0, location: location)
    }
    for element in layout.elements {
      let integer = element == .image || element == .species
      series[element] = try TimeSeries(
        in: all, name: element.rawValue, frameShape: element == .species ? [atomCount] : [atomCount, 3],
        fileType: integer ? tessera_h5t_std_i32le() : tessera_h5t_ieee_f64le(),
        memoryType: integer ? tessera_h5t_native_int32() : tessera_h5t_native_double(),
        compression: layout.compressionLevel, location: location)
    }
  }

  private func group(_ parent: hid_t, _ name: String) throws -> hid_t {
    let g = try location.createGroup(parent, name)
    groups.append(g)
    return g
  }

  /// Writes the elements due at `step` of a dump written every `dumpEvery` steps.
  public func write(step: Int, time: Double, box: Box, atoms: AtomStore, dumpEvery: Int) throws {
    guard file >= 0 else { throw H5MDError("\(path): the H5MD file is closed") }
    let total = comm.allReduce(atoms.ownedCount, .sum)
    guard total == atomCount else {
      throw H5MDError("\(path): the number of atoms changed from \(atomCount) to \(total); an h5md dump needs a constant count")
    }
    arrangeRows(atoms)
    let n = atoms.ownedCount
    for element in layout.elements where layout.isDue(element, step: step, dumpEvery: dumpEvery) {
      let target = series[element]!
      switch element {
      case .position: try appendVectors(target, atoms.position, step, time, n)
      case .velocity: try appendVectors(target, atoms.velocity, step, time, n)
      case .force: try appendVectors(target, atoms.force, step, time, n)
      case .image:
        resize(&integers, 3 * n)
        for (k, i) in order.enumerated() { for c in 0..<3 { integers[3 * k + c] = atoms.image[3 * i + c] } }
        try integers.withUnsafeBytes {
          try target.append(step: step, time: time, rows: rowPatterns, values: $0.baseAddress, isRoot: comm.isRoot, transfer: transfer)
        }
      case .species:
        resize(&integers, n)
        for (k, i) in order.enumerated() { integers[k] = atoms.type[i] }
        try integers.withUnsafeBytes {
          try target.append(step: step, time: time, rows: rowPatterns, values: $0.baseAddress, isRoot: comm.isRoot, transfer: transfer)
        }
      }
    }
    if let edges, layout.boxIsDue(step: step, dumpEvery: dumpEvery) {
      // Rows are the edge vectors a, b, c (LAMMPS's restricted triclinic form), or the diagonal.
      let l = box.length
      var values = triclinic ? [l.x, 0, 0, box.xy, l.y, 0, box.xz, box.yz, l.z] : [l.x, l.y, l.z]
      let edgeRows = comm.isRoot ? [RowPattern(start: 0, length: 3, stride: 3, repeats: 1)] : []
      try values.withUnsafeMutableBytes {
        try edges.append(step: step, time: time, rows: edgeRows, values: $0.baseAddress, isRoot: comm.isRoot, transfer: transfer)
      }
    }
    try location.check(H5Fflush(file, H5F_SCOPE_GLOBAL), "flush the file")
  }

  /// This rank's atoms sorted by their rows, and the rows they cover.
  private func arrangeRows(_ atoms: AtomStore) {
    let n = atoms.ownedCount
    // Row and index packed in one integer (rows below 2^31, as atom counts are): a plain integer sort.
    var keys = (0..<n).map { rows.row(of: atoms.tag[$0]) << 32 | $0 }
    keys.sort()
    order = keys.map { $0 & 0xFFFF_FFFF }
    rowPatterns = RowPattern.covering(keys.lazy.map { $0 >> 32 })
  }

  private func appendVectors(_ target: TimeSeries, _ source: UnsafeMutablePointer<Double>, _ step: Int, _ time: Double,
                             _ n: Int) throws {
    resize(&reals, 3 * n)
    for (k, i) in order.enumerated() { for c in 0..<3 { reals[3 * k + c] = source[3 * i + c] } }
    try reals.withUnsafeBytes {
      try target.append(step: step, time: time, rows: rowPatterns, values: $0.baseAddress, isRoot: comm.isRoot, transfer: transfer)
    }
  }

  /// At least one element, so the buffer has an address even on a rank without atoms.
  private func resize<T: Numeric>(_ buffer: inout [T], _ count: Int) {
    if buffer.count < max(count, 1) { buffer = [T](repeating: 0, count: max(count, 1)) }
  }

  /// Closes the file (collective); later calls do nothing.
  public func close() {
    for s in series.values { s.close() }
    edges?.close()
    series = [:]
    edges = nil
    for g in groups.reversed() { H5Gclose(g) }
    groups = []
    if transfer >= 0 { H5Pclose(transfer) }
    transfer = -1
    if file >= 0 { H5Fclose(file) }
    file = -1
  }
}
