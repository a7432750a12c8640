import Geometry
import Output

/// An AMBER-convention NetCDF trajectory as LAMMPS's `dump netcdf` and `dump netcdf/mpiio` lay it out:
/// dimensions `frame` (unlimited), `atom`, `cell_spatial`, `cell_angular`, `label`, `spatial`; label
/// variables `spatial` = "xyz", `cell_spatial` = "abc", `cell_angular` = alpha beta gamma; per frame
/// `time` (the step, with the timestep as its `scale_factor`), `cell_origin`, `cell_lengths` and
/// `cell_angles`; the per-atom variables of the layout in rows ordered by atom id. Reals are NC_FLOAT
/// unless the layout asks for doubles.
///
/// With PnetCDF every rank makes every call (`isWriter` marks the one rank that writes the global
/// values; the others write nothing but take part); with the serial library only the writing rank does.
public final class AmberTrajectory {
  private let file: NetCDFFile
  private let layout: AmberLayout
  private let isWriter: Bool
  private var variables: [Int32] = []
  /// `thermo yes`: one `[frame]` variable per thermo column, named by its header as LAMMPS names them.
  private let thermo: [ThermoColumn]
  private var thermoVariables: [Int32] = []
  private var time: Int32 = -1, origin: Int32 = -1, lengths: Int32 = -1, angles: Int32 = -1
  /// The frame the next write goes to (0-based).
  private var frame = 0
  // Reused from frame to frame.
  private var reals: [Double] = [0]
  private var integers: [Int32] = [0]

  public enum Library { case serial, parallel }

  /// Where a trajectory starts: a new file, or frames appended to an existing one (LAMMPS
  /// `dump_modify append yes`), from `at` (1-based; negative counts from the end, −1 the last frame)
  /// or after its last frame.
  public enum Start: Equatable { case create, append(at: Int?) }

  /// `units`: the unit style's name; `timestep`: the run's, recorded as the time's scale factor.
  public init(path: String, library: Library, layout: AmberLayout, thermo: [ThermoColumn] = [], atomCount: Int,
              start: Start, units: String,
              timestep: Double, program: String, programVersion: String, isWriter: Bool) throws {
    self.layout = layout
    self.thermo = thermo
    self.isWriter = isWriter
    // CDF-2 (64-bit offsets): every frame of a variable may hold 4 GiB (1.7e8 atoms in doubles), and it is
    // the format scipy's reader, which MDAnalysis uses, understands (LAMMPS writes CDF-5 where it can).
    let format = NetCDFFormat.cdf2
    switch (library, start) {
    case (.serial, .create): file = try SerialNetCDFFile(creating: path, format: format)
    case (.parallel, .create): file = try ParallelNetCDFFile(creating: path, format: format)
    case (.serial, .append): file = try SerialNetCDFFile(appendingTo: path)
    case (.parallel, .append): file = try ParallelNetCDFFile(appendingTo: path)
    }
    do {
      if case .append(let at) = start {
        try reopen(atomCount: atomCount, at: at)
      } else {
        try create(atomCount: atomCount, units: units, timestep: timestep, program: program, programVersion: programVersion)
      }
    } catch {
      file.close()
      throw error
    }
  }

  deinit { file.close() }

  private var realType: NetCDFType { layout.doublePrecision ? .double : .float }

  private func create(atomCount: Int, units: String, timestep: Double, program: String, programVersion: String) throws {
    let frameDimension = try file.defineDimension("frame", length: nil)
    let atom = try file.defineDimension("atom", length: atomCount)
    let cellSpatial = try file.defineDimension("cell_spatial", length: 3)
    let cellAngular = try file.defineDimension("cell_angular", length: 3)
    let label = try file.defineDimension("label", length: 10)
    let spatial = try file.defineDimension("spatial", length: 3)

    let spatialLabels = try file.defineVariable("spatial", .char, [spatial])
    let cellSpatialLabels = try file.defineVariable("cell_spatial", .char, [spatial])
    let cellAngularLabels = try file.defineVariable("cell_angular", .char, [spatial, label])
    time = try file.defineVariable("time", realType, [frameDimension])
    origin = try file.defineVariable("cell_origin", realType, [frameDimension, cellSpatial])
    lengths = try file.defineVariable("cell_lengths", realType, [frameDimension, cellSpatial])
    angles = try file.defineVariable("cell_angles", realType, [frameDimension, cellAngular])
    for v in layout.variables {
      let dimensions = v.fields.count == 3 ? [frameDimension, atom, spatial] : [frameDimension, atom]
      let id = try file.defineVariable(v.name, v.isInteger ? .int : realType, dimensions)
      if let quantity = v.quantity {
        try file.putAttribute("units", text: AmberLayout.unit(quantity, style: units), on: id)
      }
      variables.append(id)
    }
    thermoVariables = try thermo.map { try file.defineVariable($0.header, $0.isInteger ? .int : realType, [frameDimension]) }
    try file.putAttribute("Conventions", text: "AMBER", on: nil)
    try file.putAttribute("ConventionVersion", text: "1.0", on: nil)
    try file.putAttribute("program", text: program, on: nil)
    try file.putAttribute("programVersion", text: programVersion, on: nil)
    try file.putAttribute("units", text: AmberLayout.unit(.time, style: units), on: time)
    try file.putAttribute("units", text: AmberLayout.unit(.distance, style: units), on: origin)
    try file.putAttribute("units", text: AmberLayout.unit(.distance, style: units), on: lengths)
    try file.putAttribute("units", text: "degree", on: angles)
    try file.putAttribute("scale_factor", float: Float(timestep), on: time)
    try file.endDefinitions()

    let n = isWriter ? 1 : 0
    try file.put(text: "xyz", spatialLabels, start: [0], count: [3 * n])
    try file.put(text: "abc", cellSpatialLabels, start: [0], count: [3 * n])
    for (k, name) in ["alpha", "beta", "gamma"].enumerated() {
      try file.put(text: name, cellAngularLabels, start: [k, 0], count: [n, name.utf8.count * n])
    }
    frame = 0
  }

  /// Finds the variables of an existing file and the frame to continue at.
  private func reopen(atomCount: Int, at: Int?) throws {
    let atoms = try file.dimension("atom").length
    guard atoms == atomCount else {
      throw NetCDFError("\(file.path): the file holds \(atoms) atoms, the system \(atomCount): cannot append")
    }
    let frames = try file.dimension("frame").length
    time = try file.variable("time")
    origin = try file.variable("cell_origin")
    lengths = try file.variable("cell_lengths")
    angles = try file.variable("cell_angles")
    variables = try layout.variables.map { try file.variable($0.name) }
    thermoVariables = try thermo.map { try file.variable($0.header) }
    switch at {
    case nil: frame = frames
    case let k? where k > 0: frame = min(k - 1, frames)
    case let k?: frame = max(frames + k, 0)
    }
  }

  /// Writes one frame: the clock, cell and `thermo` values (one per thermo column; from the writing rank),
  /// and `atoms` (this rank's, sorted by id) into the rows `runs` cover.
  public func write(step: Int, box: Box, atoms: GatheredAtoms, runs: [RowRun], thermo values: [Double] = []) throws {
    let n = isWriter ? 1 : 0
    var clock = Double(step)
    try file.put(doubles: &clock, time, start: [frame], count: [n])
    for (variable, value) in zip(thermoVariables, values) {
      var v = value
      try file.put(doubles: &v, variable, start: [frame], count: [n])
    }
    let cell = AmberCell(box)
    for (variable, values) in [(origin, cell.origin), (lengths, cell.lengths), (angles, cell.angles)] {
      try values.withUnsafeBufferPointer {
        try file.put(doubles: $0.baseAddress!, variable, start: [frame, 0], count: [n, 3 * n])
      }
    }
    let count = atoms.count
    for (v, id) in zip(layout.variables, variables) {
      let width = v.fields.count
      if v.isInteger {
        if integers.count < max(width * count, 1) { integers = [Int32](repeating: 0, count: max(width * count, 1)) }
        for i in 0..<count { for (c, field) in v.fields.enumerated() { integers[width * i + c] = Int32(atoms.value(field, i)) } }
        try file.putRows(integers: integers, id, frame: frame, runs: runs, width: width)
      } else if let packed = Self.packedVector(v.fields, atoms), count > 0 {
        // Positions, velocities and forces are already [atom][3] in id order: written as they are.
        try file.putRows(doubles: packed, id, frame: frame, runs: runs, width: width)
      } else {
        if reals.count < max(width * count, 1) { reals = [Double](repeating: 0, count: max(width * count, 1)) }
        for i in 0..<count { for (c, field) in v.fields.enumerated() { reals[width * i + c] = atoms.value(field, i) } }
        try file.putRows(doubles: reals, id, frame: frame, runs: runs, width: width)
      }
    }
    try file.sync()
    frame += 1
  }

  private static func packedVector(_ fields: [DumpField], _ atoms: GatheredAtoms) -> [Double]? {
    switch fields {
    case [.x, .y, .z]: return atoms.positions
    case [.vx, .vy, .vz]: return atoms.velocities
    case [.fx, .fy, .fz]: return atoms.forces
    default: return nil
    }
  }

  public func close() { file.close() }
}
