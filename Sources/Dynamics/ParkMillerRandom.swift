import Foundation

/// LAMMPS's `RanPark` (Park and Miller's minimal standard generator), so that `velocity create`, `set
/// type/fraction` and `displace_atoms random` draw what LAMMPS draws. Seeded plainly (`RanPark(seed)`:
/// `velocity create loop all|local`) or for one atom (`RanPark::reset(seed, x)`: a Jenkins one-at-a-time
/// hash of the seed's and the coordinates' bytes, read as signed chars as on x86, 27 bits of it, warmed
/// up by five draws), which picks the same on any rank count.
public struct ParkMillerRandom {
  private var seed: Int32
  /// The second value of the last polar Box–Muller pair, returned by the next `gaussian()`.
  private var saved: Double?

  public init(seed: Int32) {
    self.seed = seed
  }

  public init(seed base: Int32, position: SIMD3<Double>) {
    var hash: UInt32 = 0
    func mix(_ bytes: UnsafeRawBufferPointer) {
      for byte in bytes {
        hash = hash &+ UInt32(bitPattern: Int32(Int8(bitPattern: byte)))
        hash = hash &+ (hash << 10)
        hash ^= hash >> 6
      }
    }
    withUnsafeBytes(of: base) { mix($0) }
    let coordinates = [position.x, position.y, position.z]
    coordinates.withUnsafeBytes { mix($0) }
    hash = hash &+ (hash << 3)
    hash ^= hash >> 11
    hash = hash &+ (hash << 15)
    seed = Int32(hash & 0x7ff_ffff)
    if seed == 0 { seed = 1 }
    for _ in 0..<5 { _ = uniform() }
  }

  public mutating func uniform() -> Double {
    let k = seed / 127_773
    seed = 16807 &* (seed - k * 127_773) &- 2836 &* k
    if seed < 0 { seed = seed &+ 2_147_483_647 }
    return Double(seed) * (1.0 / 2_147_483_647)
  }

  /// RanPark::gaussian: polar Box–Muller, the pair's first value returned now and its second next time.
  public mutating func gaussian() -> Double {
    if let value = saved {
      saved = nil
      return value
    }
    var v1 = 0.0, v2 = 0.0, rsq = 0.0
    repeat {
      v1 = 2 * uniform() - 1
      v2 = 2 * uniform() - 1
      rsq = v1 * v1 + v2 * v2
    } while rsq >= 1 || rsq == 0
    let factor = (-2 * Foundation.log(rsq) / rsq).squareRoot()
    saved = v1 * factor
    return v2 * factor
  }
}
