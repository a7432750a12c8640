import Decomposition
import Geometry
import InputDeck

extension Simulation {
  /// `box tilt large|small`: LAMMPS 2023 removed the command (any tilt is allowed, barostats flip a
  /// box that leans too far); decks written for older versions still say it, so it is accepted with
  /// LAMMPS's note.
  func boxCommand(_ c: Command) throws {
    try c.expectCount(2, usage: "box tilt large|small")
    guard c.arguments[0] == "tilt", ["large", "small"].contains(c.arguments[1]) else {
      throw c.error("expected 'tilt large' or 'tilt small', got '\(c.arguments.joined(separator: " "))'")
    }
    console.line("WARNING: The 'box' command has been removed and will be ignored")
  }

  /// `change_box all OPERATION… [units lattice|box]` (LAMMPS `ChangeBox::command`), operations in
  /// order: `x|y|z final LO HI | delta DLO DHI | scale F`, `xy|xz|yz final T | delta DT`,
  /// `boundary X Y Z`, `triclinic`, `ortho`, `remap [x]`. `remap` carries the atoms from the box as
  /// the previous remap (or the command's start) left it into the current one, keeping their
  /// fractional coordinates; atoms not remapped keep their positions and are wrapped by the next run.
  /// First every atom is wrapped into the box as it is, as LAMMPS does (an atom just outside it would
  /// otherwise be wrapped by a vector of the new box instead of the old).
  func changeBox(_ c: Command) throws {
    guard try c.word(0, "group") == "all" else { throw c.error("only the group 'all' is supported") }
    guard var box = self.box else { throw c.error("the simulation box is not defined yet (create_box or read_data first)") }
    guard c.arguments.count > 1 else { throw c.error("expected at least one operation (x, y, z, xy, xz, yz, boundary, triclinic, ortho, remap)") }
    // `units` applies to every operation wherever it stands, as in LAMMPS.
    var scale = lattice?.constant ?? 1
    if let u = c.arguments.firstIndex(of: "units") {
      var units = KeywordReader(c, from: u)
      _ = units.nextKeyword()
      if try !units.choice(["lattice": true, "box": false]) { scale = 1 }
    }
    wrapOwnedAtoms(into: box)
    var remapFrom = box
    var reader = KeywordReader(c, from: 1)
    while let keyword = reader.nextKeyword() {
      switch keyword {
      case "x", "y", "z":
        let d = ["x": 0, "y": 1, "z": 2][keyword]!
        var lo = box.lo[d], hi = box.hi[d]
        switch try reader.choice(["final": 0, "delta": 1, "scale": 2]) {
        case 0:
          lo = try reader.double("\(keyword) final lo") * scale
          hi = try reader.double("\(keyword) final hi") * scale
        case 1:
          lo += try reader.double("\(keyword) delta lo") * scale
          hi += try reader.double("\(keyword) delta hi") * scale
        default:
          let f = try reader.number("\(keyword) scale factor", .positive)
          let middle = 0.5 * (lo + hi), half = 0.5 * f * (hi - lo)
          lo = middle - half
          hi = middle + half
        }
        guard lo < hi, lo.isFinite, hi.isFinite else { throw c.error("\(keyword) bounds \(lo) \(hi) must be finite with lo < hi") }
        box.lo[d] = lo
        box.length[d] = hi - lo
      case "xy", "xz", "yz":
        guard box.isTriclinic else { throw c.error("cannot change the tilt \(keyword) of an orthogonal box (change_box all triclinic first)") }
        let delta = try reader.choice(["final": false, "delta": true])
        let value = try reader.double("\(keyword) \(delta ? "delta" : "final") tilt") * scale
        switch keyword {
        case "xy": box.xy = delta ? box.xy + value : value
        case "xz": box.xz = delta ? box.xz + value : value
        default: box.yz = delta ? box.yz + value : value
        }
      case "boundary":
        box.periodic = try (0..<3).map { d in try reader.choice(["p": true, "f": false]) }
      case "triclinic": box.isTriclinic = true
      case "ortho":
        guard box.xy == 0, box.xz == 0, box.yz == 0 else { throw c.error("cannot make the box orthogonal while a tilt is non-zero") }
        box.isTriclinic = false
      case "remap":
        _ = reader.take("x")
        remap(from: remapFrom, to: box)
        remapFrom = box
      case "units": _ = try reader.word("lattice or box")
      default: throw reader.unknownKeyword("x, y, z, xy, xz, yz, boundary, triclinic, ortho, remap, units", "unsupported operation")
      }
    }
    let values = [box.lo.x, box.lo.y, box.lo.z, box.length.x, box.length.y, box.length.z, box.xy, box.xz, box.yz]
    guard values.allSatisfy(\.isFinite) else { throw c.error("the new box is not finite") }
    // A tilt of n box lengths describes the same periodic lattice as one reduced by n lengths; far
    // beyond that the halo would hold enormous numbers of ghost images.
    let tilts = [(box.xy, box.length.x, "xy", "x"), (box.xz, box.length.x, "xz", "x"), (box.yz, box.length.y, "yz", "y")]
    for (tilt, length, name, edge) in tilts where abs(tilt) > 10 * length {
      throw c.error("tilt \(name) = \(tilt) is more than 10 box lengths along \(edge) (\(length)); an equivalent box tilts by less")
    }
    guard let grid, ProcessorGrid.choose(ranks: comm.size, box: box, requested: grid.counts) != nil else {
      throw c.error("the new box (lengths \(box.length.x) \(box.length.y) \(box.length.z), tilts \(box.xy) \(box.xz) \(box.yz)) is too large or skewed to cut into bricks")
    }
    periodic = box.periodic
    boxState!.box = box
    try checkNoAtomOutsideFixedBounds(box, c)
    if box.isTriclinic {
      console.line("Changing box ...\n  triclinic box = (\(box.lo.x) \(box.lo.y) \(box.lo.z)) to (\(box.hi.x) \(box.hi.y) \(box.hi.z)) with tilt (\(box.xy) \(box.xz) \(box.yz))")
    } else {
      console.line("Changing box ...\n  orthogonal box = (\(box.lo.x) \(box.lo.y) \(box.lo.z)) to (\(box.hi.x) \(box.hi.y) \(box.hi.z))")
    }
  }

  /// Wraps every owned atom into the periodic box, counting the crossings in its image flags.
  func wrapOwnedAtoms(into box: Box) {
    for i in 0..<atoms.ownedCount {
      var x = atoms.positionOf(i), image = atoms.imageOf(i)
      box.wrap(&x, image: &image)
      atoms.setPosition(i, x)
      atoms.setImage(i, image)
    }
  }

  /// Moves every owned atom to the point of `new` with its fractional coordinates in `old`.
  private func remap(from old: Box, to new: Box) {
    for i in 0..<atoms.ownedCount {
      atoms.setPosition(i, new.lo + new.cartesian(fromFractional: old.fractional(atoms.positionOf(i))))
    }
  }

  /// LAMMPS stops with "Lost atoms via change_box" (or displace_atoms) when atoms end up beyond a
  /// fixed boundary.
  func checkNoAtomOutsideFixedBounds(_ box: Box, _ c: Command) throws {
    var outside = 0
    for i in 0..<atoms.ownedCount {
      let lambda = box.fractional(atoms.positionOf(i))
      if (0..<3).contains(where: { !box.periodic[$0] && (lambda[$0] < 0 || lambda[$0] >= 1) }) { outside += 1 }
    }
    let total = comm.allReduce(outside, .sum)
    if total > 0 { throw c.error("\(total) atoms lie outside the new box across a fixed boundary (LAMMPS: lost atoms via \(c.name))") }
  }
}
