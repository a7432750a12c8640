/// LAMMPS's flip of a skewed periodic box (`FixNH::pre_exchange`, `Domain::image_flip`): once a tilt has
/// passed 0.6 of its box length, the same periodic lattice is described by other edge vectors,
/// b′ = b + m·a and c′ = c + n·a + p·b, which moves that tilt by one box length towards zero.
/// The threshold is 0.1 beyond half a length so that a tilt wandering about ±½ does not flip back and
/// forth. yz is looked at first, since its flip shifts xz by xy; xz and xy then by their own lengths.
public struct BoxFlip: Equatable, Sendable {
  /// m, n and p: how many a's are added to b, how many a's and b's to c (LAMMPS's flipxy, flipxz, flipyz).
  public let xy, xz, yz: Int32
  /// The box described by the new edge vectors (same lengths, origin and volume).
  public let box: Box

  /// How far beyond half a box length a tilt may go before the box flips (LAMMPS `DELTAFLIP`).
  public static let margin = 0.1

  /// The flip `box` needs now, or nil when every tilt is within its threshold.
  public init?(_ box: Box) {
    var flipped = box
    var m: Int32 = 0, n: Int32 = 0, p: Int32 = 0
    let xLimit = (0.5 + Self.margin) * box.length.x, yLimit = (0.5 + Self.margin) * box.length.y
    // LAMMPS's comparisons: below −limit, or at +limit and above.
    func direction(_ tilt: Double, _ limit: Double) -> Int32 { tilt < -limit ? 1 : tilt >= limit ? -1 : 0 }
    if box.periodic[1] {
      p = direction(flipped.yz, yLimit)
      flipped.yz += Double(p) * box.length.y
      flipped.xz += Double(p) * flipped.xy
    }
    if box.periodic[0] {
      n = direction(flipped.xz, xLimit)
      flipped.xz += Double(n) * box.length.x
      m = direction(flipped.xy, xLimit)
      flipped.xy += Double(m) * box.length.x
    }
    guard m != 0 || n != 0 || p != 0 else { return nil }
    (xy, xz, yz, self.box) = (m, n, p, flipped)
  }

  /// An atom's image flags in the new edge vectors, so that its unwrapped position stays the same:
  /// x + i·a + j·b + k·c = x + i′·a + j′·b′ + k·c′ with j′ = j − p·k and i′ = i − m·j′ − n·k.
  @inlinable
  public func image(_ old: SIMD3<Int32>) -> SIMD3<Int32> {
    let y = old.y &- yz &* old.z
    return SIMD3(old.x &- xy &* y &- xz &* old.z, y, old.z)
  }
}
