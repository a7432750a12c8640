import Foundation

/// Mutations of a text input (deck or data file), each described well enough to read off the
/// difference from the original by eye.
enum TextMutation {
  /// Numbers that break parsers: non-finite spellings, overflow at every integer width, denormals.
  static let hostileNumbers = [
    "nan", "NaN", "-nan", "inf", "-inf", "Infinity", "1e308", "-1e308", "1e400", "1e-320", "0", "-0", "-1",
    "2147483648", "4294967296", "9223372036854775807", "9223372036854775808", "-9223372036854775808",
    "99999999999999999999999", "0x10", "1.5", "1e", "--1", "",
  ]
  /// Words that are meaningful to a deck reader out of place: comments, continuations, variables,
  /// wildcards, quotes, immediate expressions, section names.
  static let hostileWords = [
    "#", "&", "${n}", "${undefined}", "$(1/0)", "$(v_n*1e300)", "v_x", "*", "1*2", "*0", "\"", "'", "all", "Atoms",
    "Masses", "Velocities", "atoms", "xlo", "xhi", "run", "include", "/dev/zero", "..", "\t", "\u{0}", "é",
  ]

  /// Applies one to three mutations; returns the new bytes and what was done.
  static func mutate(_ original: Data, using rng: inout SeededRandom) -> (Data, [String]) {
    var data = original
    var done: [String] = []
    for _ in 0...rng.below(3) {
      let (next, what) = once(data, using: &rng)
      data = next
      done.append(what)
    }
    return (data, done)
  }

  private static func once(_ data: Data, using rng: inout SeededRandom) -> (Data, String) {
    var bytes = [UInt8](data)
    switch rng.below(10) {
    case 0:
      let at = rng.below(bytes.count + 1)
      return (Data(bytes.prefix(at)), "truncate at byte \(at)")
    case 1:
      guard !bytes.isEmpty else { return (data, "bit flip skipped (empty)") }
      let at = rng.below(bytes.count), bit = rng.below(8)
      bytes[at] ^= UInt8(1 << bit)
      return (Data(bytes), "flip bit \(bit) of byte \(at)")
    default:
      return lineMutation(data, using: &rng)
    }
  }

  /// Mutations that keep the text line-structured: numbers, counts, words and whole lines.
  private static func lineMutation(_ data: Data, using rng: inout SeededRandom) -> (Data, String) {
    var lines = String(decoding: data, as: UTF8.self).components(separatedBy: "\n")
    guard !lines.isEmpty else { return (data, "no lines") }
    let l = rng.below(lines.count)
    var words = lines[l].split(separator: " ", omittingEmptySubsequences: true).map(String.init)
    let what: String
    switch rng.below(8) {
    case 0, 1:
      let numeric = words.indices.filter { Double(words[$0]) != nil }
      guard let w = numeric.isEmpty ? nil : rng.pick(numeric) else { return (data, "line \(l + 1): no number") }
      let replacement = rng.pick(hostileNumbers)
      what = "line \(l + 1) word \(w + 1): '\(words[w])' -> '\(replacement)'"
      words[w] = replacement
    case 2:
      let integers = words.indices.filter { Int(words[$0]) != nil }
      guard let w = integers.isEmpty ? nil : rng.pick(integers) else { return (data, "line \(l + 1): no integer") }
      let value = Int(words[w])!
      let wrong = rng.pick([value &+ 1, value &- 1, value &* 1000, 0, 0 &- value, Int(Int32.max), value &* 1_000_000_007])
      what = "line \(l + 1) word \(w + 1): count \(value) -> \(wrong)"
      words[w] = String(wrong)
    case 3:
      guard !words.isEmpty else { return (data, "line \(l + 1): no word") }
      let w = rng.below(words.count)
      what = "line \(l + 1): delete word \(w + 1) '\(words[w])'"
      words.remove(at: w)
    case 4:
      let w = rng.below(words.count + 1), word = rng.pick(hostileWords)
      what = "line \(l + 1): insert '\(word)' at word \(w + 1)"
      words.insert(word, at: w)
    case 5:
      lines.remove(at: l)
      return (Data(lines.joined(separator: "\n").utf8), "delete line \(l + 1)")
    case 6:
      lines.insert(lines[l], at: l)
      return (Data(lines.joined(separator: "\n").utf8), "duplicate line \(l + 1)")
    default:
      let m = rng.below(lines.count)
      lines.swapAt(l, m)
      return (Data(lines.joined(separator: "\n").utf8), "swap lines \(l + 1) and \(m + 1)")
    }
    lines[l] = words.joined(separator: " ")
    return (Data(lines.joined(separator: "\n").utf8), what)
  }
}
