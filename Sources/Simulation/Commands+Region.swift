import Geometry
import InputDeck

extension Simulation {
  /// `region ID STYLE ARGS… [side in|out] [units box|lattice]` (LAMMPS `Region`): `block xlo xhi ylo
  /// yhi zlo zhi`, `prism xlo xhi ylo yhi zlo zhi xy xz yz`, `sphere x y z r`, `cylinder x|y|z c1 c2 r
  /// lo hi`, `plane px py pz nx ny nz`, `union N ID…`, `intersect N ID…`. Block and cylinder bounds
  /// may be `INF` (unbounded) or `EDGE` (the box's bound). Lattice units, the default, scale every
  /// length by the lattice constant (a plane's normal keeps its direction).
  func region(_ c: Command) throws {
    let id = try c.word(0, "region ID")
    let style = try c.word(1, "region style")
    let shapeWords: Int
    switch style {
    case "block": shapeWords = 6
    case "prism": shapeWords = 9
    case "sphere": shapeWords = 4
    case "cylinder": shapeWords = 6
    case "plane": shapeWords = 6
    case "union", "intersect":
      let count = c.arguments.count > 2 ? try c.positiveInteger(2, "number of regions") : 0
      guard count < c.arguments.count else { throw c.error("region \(style) names \(count) regions, but only \(c.arguments.count - 3) follow") }
      shapeWords = 1 + count
    default: throw c.error("unsupported region style '\(style)' (block, prism, sphere, cylinder, plane, union, intersect)")
    }
    guard c.arguments.count >= 2 + shapeWords else {
      throw c.error("region \(style) expects \(shapeWords) values after the style, got \(c.arguments.count - 2)")
    }
    var inLattice = true, outside = false
    var reader = KeywordReader(c, from: 2 + shapeWords)
    while let keyword = reader.nextKeyword() {
      switch keyword {
      case "units": inLattice = try reader.choice(["box": false, "lattice": true])
      case "side": outside = try reader.choice(["in": false, "out": true])
      default: throw reader.unknownKeyword("units, side")
      }
    }
    var scale = 1.0
    if inLattice, style != "union", style != "intersect" {
      guard let lattice else { throw c.error("region in lattice units needs a lattice command first") }
      scale = lattice.constant
    }
    /// Word `i` as a length: a number, or for bounds `INF` / `EDGE` of dimension `d` (lo or hi).
    func length(_ i: Int, _ what: String, bound: (d: Int, hi: Bool)? = nil) throws -> Double {
      if let bound, c.arguments[i] == "INF" { return bound.hi ? .infinity : -.infinity }
      if let bound, c.arguments[i] == "EDGE" {
        guard let box else { throw c.error("EDGE needs the box to be defined") }
        return bound.hi ? box.hi[bound.d] : box.lo[bound.d]
      }
      return try c.double(i, what) * scale
    }
    let shape: Region.Shape
    switch style {
    case "block", "prism":
      var lo = SIMD3<Double>(), hi = SIMD3<Double>()
      for d in 0..<3 {
        lo[d] = try length(2 + 2 * d, "region bound \(2 * d + 1)", bound: style == "block" ? (d, false) : nil)
        hi[d] = try length(3 + 2 * d, "region bound \(2 * d + 2)", bound: style == "block" ? (d, true) : nil)
        guard lo[d] < hi[d] else { throw c.error("region bounds must have lo < hi in every dimension") }
      }
      if style == "block" {
        shape = .block(lo: lo, hi: hi)
      } else {
        let t = try (8..<11).map { try length($0, "tilt \($0 - 7)") }
        shape = .prism(Box(lo: lo, hi: hi, xy: t[0], xz: t[1], yz: t[2], triclinic: true))
      }
    case "sphere":
      let center = SIMD3(try length(2, "x"), try length(3, "y"), try length(4, "z"))
      let radius = try length(5, "radius")
      guard radius >= 0 else { throw c.error("sphere radius must be >= 0, got \(radius / scale)") }
      shape = .sphere(center: center, radius: radius)
    case "cylinder":
      guard let axis = ["x": 0, "y": 1, "z": 2][c.arguments[2]] else {
        throw c.error("expected x, y or z for the cylinder's axis, got '\(c.arguments[2])'")
      }
      let radius = try length(5, "radius")
      guard radius >= 0 else { throw c.error("cylinder radius must be >= 0, got \(radius / scale)") }
      let lo = try length(6, "cylinder lo", bound: (axis, false)), hi = try length(7, "cylinder hi", bound: (axis, true))
      guard lo < hi else { throw c.error("cylinder bounds must have lo < hi") }
      shape = .cylinder(axis: axis, center: SIMD2(try length(3, "c1"), try length(4, "c2")), radius: radius, lo: lo, hi: hi)
    case "plane":
      let normal = SIMD3(try c.double(5, "nx"), try c.double(6, "ny"), try c.double(7, "nz"))
      let norm = (normal * normal).sum().squareRoot()
      guard norm > 0 else { throw c.error("the plane's normal must not be zero") }
      shape = .plane(point: SIMD3(try length(2, "px"), try length(3, "py"), try length(4, "pz")), normal: normal / norm)
    default:
      let members = try c.arguments[3..<(2 + shapeWords)].map { name in
        guard let r = regions[name] else { throw c.error("unknown region '\(name)'") }
        return r
      }
      shape = style == "union" ? .union(members) : .intersect(members)
    }
    regions[id] = Region(shape, outside: outside)
  }
}
