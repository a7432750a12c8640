/// LAMMPS's `RanMars` (Marsaglia's RANMAR, F. James, Comp. Phys. Comm. 60, 329 (1990)) and its
/// `select_subset`, so that `set type/ratio` and `type/subset` pick the atoms LAMMPS picks on one rank.
/// The constructor discards one draw, as LAMMPS's does.
public struct MarsagliaRandom {
  private var u = [Double](repeating: 0, count: 98)
  private var i97 = 97, j97 = 33
  private var c = 362_436.0 / 16_777_216.0
  private let cd = 7_654_321.0 / 16_777_216.0
  private let cm = 16_777_213.0 / 16_777_216.0

  /// The seeds LAMMPS accepts.
  public static let seeds = 1...900_000_000

  public init(seed: Int) {
    precondition(Self.seeds.contains(seed), "RANMAR seed \(seed) out of range")
    let ij = (seed - 1) / 30082, kl = (seed - 1) - 30082 * ij
    var i = (ij / 177) % 177 + 2, j = ij % 177 + 2, k = (kl / 169) % 178 + 1, l = kl % 169
    for ii in 1...97 {
      var s = 0.0, t = 0.5
      for _ in 0..<24 {
        let m = ((i * j) % 179) * k % 179
        (i, j, k) = (j, k, m)
        l = (53 * l + 1) % 169
        if (l * m) % 64 >= 32 { s += t }
        t *= 0.5
      }
      u[ii] = s
    }
    _ = uniform()
  }

  public mutating func uniform() -> Double {
    var uni = u[i97] - u[j97]
    if uni < 0 { uni += 1 }
    u[i97] = uni
    i97 -= 1
    if i97 == 0 { i97 = 97 }
    j97 -= 1
    if j97 == 0 { j97 = 97 }
    c -= cd
    if c < 0 { c += cm }
    uni -= c
    if uni < 0 { uni += 1 }
    return uni
  }

  /// Exactly `target` of `count` items marked, as LAMMPS's `select_subset` on one rank: passes over
  /// the items still eligible, each flipped with probability (still wanted) / (eligible), clamped to
  /// [0.01, 0.99]; a pass that overshoots is followed by one that unmarks among the items it marked,
  /// and so on. Items keep their order within each pass.
  public mutating func selectSubset(_ target: Int, of count: Int) -> [Bool] {
    precondition((0...count).contains(target))
    var marked = [Bool](repeating: false, count: count)
    // The two eligible sets: unmarked items a pass may mark, and marked items one may unmark.
    var eligible: [[Int]] = [Array(0..<count), []]
    var markedCount = 0
    while markedCount != target {
      let adding = target > markedCount
      let set = adding ? 0 : 1
      let wanted = Double(abs(target - markedCount)), available = Double(eligible[set].count)
      let threshold = min(max(wanted / available, 0.01), 0.99)
      var next: [[Int]] = [[], []]
      var flips = 0
      for index in eligible[set] {
        if uniform() < threshold { marked[index] = adding; flips += 1 }
        next[marked[index] ? 1 : 0].append(index)
      }
      eligible = next
      markedCount += adding ? flips : -flips
    }
    return marked
  }
}
