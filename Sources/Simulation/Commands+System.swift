import Atoms
import Communication
import Decomposition
import Dynamics
import Geometry
import InputDeck

extension Simulation {
  func units(_ c: Command) throws {
    try c.expectCount(1, usage: "units lj|metal")
    if box != nil { throw c.error("units must be set before the box is defined") }
    guard let u = UnitSystem.named(c.arguments[0]) else {
      throw c.error("unsupported unit style '\(c.arguments[0])' (lj, metal)")
    }
    units = u
  }

  func dimension(_ c: Command) throws {
    try c.expectCount(1, usage: "dimension 3")
    guard c.arguments[0] == "3" else { throw c.error("only 'dimension 3' is supported, got '\(c.arguments[0])'") }
  }

  func boundary(_ c: Command) throws {
    try c.expectCount(3, usage: "boundary X Y Z with each p or f")
    if box != nil { throw c.error("boundary must be set before the box is defined") }
    periodic = try c.arguments.map { word in
      switch word {
      case "p": return true
      case "f": return false
      default: throw c.error("unsupported boundary '\(word)' (p or f)")
      }
    }
  }

  func atomStyle(_ c: Command) throws {
    try c.expectCount(1, usage: "atom_style atomic")
    guard c.arguments[0] == "atomic" else { throw c.error("unsupported atom style '\(c.arguments[0])' (atomic)") }
  }

  /// `atom_modify map array|hash|yes [sort …]`: Tessera's id lookup adapts itself; accepted for decks.
  func atomModify(_ c: Command) throws {
    var reader = KeywordReader(c)
    while let keyword = reader.nextKeyword() {
      switch keyword {
      case "map": _ = try reader.choice(["array": (), "hash": (), "yes": ()])
      case "sort":
        _ = try reader.integer("sort frequency")
        _ = try reader.double("sort bin size")
      default: throw reader.unknownKeyword("map, sort")
      }
    }
  }

  /// `newton on|off`: Tessera always applies Newton's third law across ranks.
  func newton(_ c: Command) throws {
    try c.expectCount(1, 2, usage: "newton on")
    guard c.arguments.allSatisfy({ $0 == "on" }) else { throw c.error("only 'newton on' is supported") }
  }

  func lattice(_ c: Command) throws {
    guard c.arguments.count >= 2 else { throw c.error("expected lattice sc|bcc|fcc|diamond SCALE [origin X Y Z]") }
    let scale = try c.double(1, "lattice scale")
    guard var l = Lattice(style: c.arguments[0], scale: scale, units: units) else {
      throw c.error("unsupported lattice '\(c.arguments[0])' with scale \(scale) (sc, bcc, fcc, diamond; scale > 0)")
    }
    var reader = KeywordReader(c, from: 2)
    while let keyword = reader.nextKeyword() {
      switch keyword {
      case "origin":
        for d in 0..<3 {
          let v = try reader.double("origin component")
          guard v >= 0, v < 1 else { throw c.error("lattice origin components must be in [0, 1), got \(v)") }
          l.origin[d] = v
        }
      default: throw reader.unknownKeyword("origin")
      }
    }
    lattice = l
  }

  /// `create_box N REGION`.
  func createBox(_ c: Command) throws {
    try c.expectCount(2, usage: "create_box NTYPES REGION")
    if box != nil { throw c.error("the box is already defined") }
    let types = try c.positiveInteger(0, "number of atom types")
    guard let r = regions[c.arguments[1]] else { throw c.error("unknown region '\(c.arguments[1])'") }
    guard var b = r.box else { throw c.error("create_box needs a block or prism region with finite bounds and side in, got '\(c.arguments[1])'") }
    b.periodic = periodic
    try defineBox(b, typeCount: types, c)
  }

  /// The most atom types a box may have.
  static let maximumTypeCount = 1000

  /// Sets the box and the processor grid that cuts it (`grid`, or the `processors` request).
  func defineBox(_ b: Box, typeCount: Int, _ c: Command, grid chosen: SIMD3<Int>? = nil) throws {
    let extents = [b.lo.x, b.lo.y, b.lo.z, b.length.x, b.length.y, b.length.z, b.xy, b.xz, b.yz]
    guard extents.allSatisfy(\.isFinite), b.volume.isFinite, b.length.min() > 0 else {
      throw c.error("the box (\(b.lo) to \(b.hi), tilts \(b.xy) \(b.xz) \(b.yz)) must have finite, positive extents")
    }
    // Per-type tables (masses, pair coefficients) grow with the square of the count.
    guard typeCount <= Simulation.maximumTypeCount else {
      throw c.error("\(typeCount) atom types is more than Tessera supports (\(Simulation.maximumTypeCount))")
    }
    var fitting = chosen ?? ProcessorGrid.choose(ranks: comm.size, box: b, requested: requestedGrid)
    if fitting == nil, let planned = execution.plannedRanks,
       ProcessorGrid.choose(ranks: planned, box: b, requested: requestedGrid) != nil {
      // `tessera check -np N`: the request is for the planned ranks; the checking ranks cut the box freely.
      fitting = ProcessorGrid.choose(ranks: comm.size, box: b)
    }
    guard let counts = fitting else {
      throw c.error("processors \(requestedGrid.x) \(requestedGrid.y) \(requestedGrid.z) does not match \(comm.size) ranks")
    }
    boxState = BoxState(box: b)
    grid = ProcessorGrid(counts: counts, rank: comm.rank)
    masses = Masses(typeCount: typeCount)
    console.line("Created \(b.isTriclinic ? "triclinic" : "orthogonal") box = (\(b.lo.x) \(b.lo.y) \(b.lo.z)) to (\(b.hi.x) \(b.hi.y) \(b.hi.z))")
    console.line("  \(counts.x) by \(counts.y) by \(counts.z) MPI processor grid")
  }

  /// `processors Px Py Pz` (each a number or `*`).
  func processors(_ c: Command) throws {
    try c.expectCount(3, usage: "processors Px Py Pz")
    if box != nil { throw c.error("processors must be set before the box is defined") }
    var p = SIMD3<Int>()
    for d in 0..<3 { p[d] = c.arguments[d] == "*" ? 0 : try c.positiveInteger(d, "processor count") }
    requestedGrid = p
  }

  /// `create_atoms TYPE box|region ID`: every rank creates the lattice points of its own brick only.
  func createAtoms(_ c: Command) throws {
    try c.expectCount(2, 3, usage: "create_atoms TYPE box | create_atoms TYPE region ID")
    let b = try requireBox(c)
    guard let grid else { throw c.error("no processor grid") }
    let type = try c.positiveInteger(0, "atom type")
    guard type <= masses.typeCount else { throw c.error("atom type \(type) exceeds the \(masses.typeCount) types of the box") }
    var region: Region?
    switch c.arguments[1] {
    case "box": try c.expectCount(2, usage: "create_atoms TYPE box")
    case "region":
      try c.expectCount(3, usage: "create_atoms TYPE region ID")
      guard let r = regions[c.arguments[2]] else { throw c.error("unknown region '\(c.arguments[2])'") }
      region = r
    case let w: throw c.error("expected box or region, got '\(w)'")
    }
    guard let lattice else { throw c.error("create_atoms needs a lattice command first") }
    let filler = LatticeFiller(lattice: lattice, box: b, grid: grid, region: region)
    let points = filler.pointCount()
    guard points.isFinite, points <= LatticeFiller.pointLimit else {
      throw c.error("the box spans \(String(format: "%.3g", points)) lattice points, more than \(String(format: "%.0e", LatticeFiller.pointLimit)) (box or lattice constant wrong?)")
    }
    let offset = Int64(maxTag()), first = atoms.ownedCount
    let created = filler.fill(into: atoms, type: Int32(type))
    let total = comm.allReduce(created, .sum)
    try numberConsecutively(first..<first + created, total: total, after: offset, c)
    atomCount += total
    console.line("Created \(total) atoms")
  }

  /// Gives the atoms `created` (numbered by lattice point) the ids offset + 1 … offset + total in
  /// lattice-point order, as LAMMPS does on one rank, whatever the rank count.
  private func numberConsecutively(_ created: Range<Int>, total: Int, after offset: Int64, _ c: Command) throws {
    let tags = atoms.tag + created.lowerBound
    let numbering: RowIndex
    do {
      numbering = try RowIndex(ids: UnsafeBufferPointer(start: tags, count: created.count), total: total, comm: comm)
    } catch {
      throw c.error("cannot number the new atoms: \(error)")
    }
    for i in 0..<created.count { tags[i] = offset + Int64(numbering.row(of: tags[i]) + 1) }
  }

  /// Largest atom id in the system (new atoms are numbered above it).
  func maxTag() -> Int {
    var m: Int64 = 0
    for i in 0..<atoms.ownedCount { m = max(m, atoms.tag[i]) }
    return comm.allReduce(Int(m), .max)
  }

  /// `mass TYPE VALUE` (TYPE may be `*`, `n*`, `*m`, `n*m`).
  func mass(_ c: Command) throws {
    try c.expectCount(2, usage: "mass TYPE VALUE")
    _ = try requireBox(c)
    let value = try c.double(1, "mass")
    guard value > 0 else { throw c.error("mass must be positive, got \(value)") }
    for t in try typeRange(c.arguments[0], c) { masses.set(type: t, mass: value) }
  }

  /// Expands a LAMMPS type range: `3`, `*`, `2*`, `*4`, `2*4`.
  func typeRange(_ word: String, _ c: Command) throws -> ClosedRange<Int> {
    let n = masses.typeCount
    func bound(_ s: Substring, _ fallback: Int) throws -> Int {
      if s.isEmpty { return fallback }
      guard let v = Int(s) else { throw c.error("expected an atom type or range, got '\(word)'") }
      return v
    }
    let range: ClosedRange<Int>
    if let star = word.firstIndex(of: "*") {
      let lo = try bound(word[..<star], 1), hi = try bound(word[word.index(after: star)...], n)
      guard lo <= hi else { throw c.error("empty atom type range '\(word)'") }
      range = lo...hi
    } else {
      let t = try bound(Substring(word), 0)
      range = t...t
    }
    guard range.lowerBound >= 1 && range.upperBound <= n else {
      throw c.error("atom type \(word) is outside 1..\(n)")
    }
    return range
  }

  /// `velocity GROUP create T SEED [dist …] [mom …] [rot …] [loop all|local|geom]` and `velocity GROUP
  /// scale T` (LAMMPS's draws and the group's temperature, see `VelocityCreation`), `velocity GROUP set VX
  /// VY VZ [sum yes|no] [units box|lattice]` (NULL leaves a component; lattice units, the default, multiply
  /// by the lattice constant as LAMMPS) and `velocity GROUP zero linear|angular` (the group's centre-of-mass
  /// motion or rotation removed).
  func velocity(_ c: Command) throws {
    let b = try requireBox(c)
    let groupName = try c.word(0, "group")
    let target = try group(named: groupName, c)
    if let t = masses.firstUnset { throw c.error("mass of atom type \(t) is not set") }
    let style = try c.word(1, "velocity style")
    let members = { [atoms] (i: Int) in target.contains(atoms.tag[i]) }
    switch style {
    case "create":
      var v = VelocityCreation(temperature: try c.double(2, "temperature"), seed: try c.positiveInteger(3, "seed"))
      var reader = KeywordReader(c, from: 4)
      while let keyword = reader.nextKeyword() {
        switch keyword {
        case "dist": v.distribution = try reader.choice(["uniform": .uniform, "gaussian": .gaussian])
        case "mom": v.zeroMomentum = try reader.yesNo()
        case "rot": v.zeroRotation = try reader.yesNo()
        case "loop": v.loop = try reader.choice(["all": .all, "local": .local, "geom": .geom])
        default: throw reader.unknownKeyword("dist, mom, rot, loop")
        }
      }
      v.apply(atoms, masses: masses, box: b, units: units, comm: comm, members: members)
    case "scale":
      try c.expectCount(3, usage: "velocity GROUP scale T")
      VelocityScaling(temperature: try c.double(2, "temperature"))
        .apply(atoms, masses: masses, units: units, comm: comm, members: members)
    case "set":
      let components: [Double?] = try (0..<3).map { k in
        try c.word(2 + k, "velocity component \(k + 1)") == "NULL" ? nil : try c.double(2 + k, "velocity component \(k + 1)")
      }
      var sum = false, scale = lattice?.constant ?? 1
      var reader = KeywordReader(c, from: 5)
      while let keyword = reader.nextKeyword() {
        switch keyword {
        case "sum": sum = try reader.yesNo()
        case "units": scale = try reader.choice(["box": 1, "lattice": lattice?.constant ?? 1])
        default: throw reader.unknownKeyword("sum, units")
        }
      }
      for i in 0..<atoms.ownedCount where target.contains(atoms.tag[i]) {
        var v = atoms.velocityOf(i)
        for k in 0..<3 { if let value = components[k] { v[k] = (sum ? v[k] : 0) + value * scale } }
        atoms.setVelocity(i, v)
      }
    case "zero":
      try c.expectCount(3, usage: "velocity GROUP zero linear|angular")
      switch c.arguments[2] {
      case "linear": removeMomentum(atoms, masses: masses, comm: comm, members: members)
      case "angular": removeRotation(atoms, masses: masses, box: b, comm: comm, members: members)
      case let w: throw c.error("expected linear or angular after zero, got '\(w)'")
      }
    case let s: throw c.error("unsupported velocity style '\(s)' (create, scale, set, zero)")
    }
  }
}
