import Dynamics
/// SplitMix64: its whole state is one seed, so any fuzz case
/// can be replayed alone from (seed, case number).
struct SeededRandom: RandomNumberGenerator {
  private var generator: SplitMix64

  init(seed: UInt64, stream: UInt64) {
    generator = SplitMix64(seed: seed &+ stream &* 0x9E37_79B9_7F4A_7C15)
    _ = generator.next()
  }

  mutating func next() -> UInt64 { generator.next() }

  mutating func below(_ n: Int) -> Int { Int.random(in: 0..<n, using: &self) }

  mutating func pick<T>(_ items: [T]) -> T { items[below(items.count)] }

  mutating func chance(_ p: Double) -> Bool { Double.random(in: 0..<1, using: &self) < p }
}
