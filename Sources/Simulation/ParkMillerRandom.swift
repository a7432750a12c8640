/// LAMMPS's `RanPark` (Park and Miller's minimal standard generator) as `set type/fraction` and
/// `displace_atoms random` seed it for one atom, so that they pick what LAMMPS picks on any rank count: a Jenkins one-at-a-time hash of the seed's and the coordinates' bytes (read as
/// signed chars, as on x86), 27 bits of it, warmed up by five draws.
struct ParkMillerRandom {
  private var seed: Int32

  init(seed base: Int32, position: SIMD3<Double>) {
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

  mutating func uniform() -> Double {
    let k = seed / 127_773
    seed = 16807 &* (seed - k * 127_773) &- 2836 &* k
    if seed < 0 { seed = seed &+ 2_147_483_647 }
    return Double(seed) * (1.0 / 2_147_483_647)
  }
}
