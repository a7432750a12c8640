import Atoms
import Foundation
import InputDeck

/// A group of atoms (LAMMPS `group`): the ids of its atoms when it was defined. As LAMMPS's group
/// bits, membership is fixed then — ids and types never change, and a region group is not re-read
/// as atoms move. Every rank holds the whole set of ids, which suits the small systems of
/// exploration runs that use groups.
struct AtomGroup {
  /// nil: every atom (the group `all`).
  var ids: Set<Int64>?

  static let all = AtomGroup(ids: nil)

  func contains(_ tag: Int64) -> Bool { ids?.contains(tag) ?? true }
}

extension Simulation {
  /// `group ID id|type VALUES…` (a value is N, N:M or N:M:S) and `group ID region REGION`. Naming an
  /// existing group adds the atoms to it, as in LAMMPS.
  func group(_ c: Command) throws {
    let name = try c.word(0, "group ID")
    guard name != "all" else { throw c.error("the group 'all' is predefined and holds every atom") }
    guard name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }) else {
      throw c.error("invalid group ID '\(name)' (letters, digits and underscores)")
    }
    _ = try requireBox(c)
    var chosen: [Int64] = []
    switch try c.word(1, "group style") {
    case "id", "type":
      guard c.arguments.count > 2 else { throw c.error("expected at least one \(c.arguments[1]) or range N:M[:S]") }
      let ranges = try c.arguments.dropFirst(2).map { try groupRange($0, c) }
      let byType = c.arguments[1] == "type"
      for i in 0..<atoms.ownedCount {
        let value = byType ? Int64(atoms.type[i]) : atoms.tag[i]
        if ranges.contains(where: { $0.contains(value) }) { chosen.append(atoms.tag[i]) }
      }
    case "region":
      try c.expectCount(3, usage: "group ID region REGION")
      guard let region = regions[c.arguments[2]] else { throw c.error("unknown region '\(c.arguments[2])'") }
      for i in 0..<atoms.ownedCount where region.contains(atoms.positionOf(i)) { chosen.append(atoms.tag[i]) }
    case let style: throw c.error("unsupported group style '\(style)' (id, type, region)")
    }
    let bytes = chosen.withUnsafeBytes { [UInt8]($0) }
    var members = groups[name]?.ids ?? []
    for part in comm.allGatherBytes(bytes) {
      part.withUnsafeBytes { raw in members.formUnion(raw.bindMemory(to: Int64.self)) }
    }
    groups[name] = AtomGroup(ids: members)
    console.line("\(members.count) atoms in group \(name)")
  }

  /// A group value: N, or N:M with an optional stride S (N:M:S), inclusive as LAMMPS.
  private func groupRange(_ word: String, _ c: Command) throws -> IdRange {
    let parts = word.split(separator: ":", omittingEmptySubsequences: false).map { Int64($0) }
    guard (1...3).contains(parts.count), parts.allSatisfy({ $0 != nil }) else {
      throw c.error("expected N, N:M or N:M:S for \(c.arguments[1]), got '\(word)'")
    }
    let lo = parts[0]!, hi = parts.count > 1 ? parts[1]! : lo, step = parts.count > 2 ? parts[2]! : 1
    guard lo <= hi, step > 0 else { throw c.error("empty range '\(word)' (N:M needs N <= M, a stride > 0)") }
    return IdRange(lo: lo, hi: hi, stride: step)
  }

  /// The group a command names (`all` or one defined by `group`).
  func group(named name: String, _ c: Command) throws -> AtomGroup {
    if name == "all" { return .all }
    guard let g = groups[name] else { throw c.error("unknown group '\(name)'") }
    return g
  }
}

/// N:M:S of `group id|type`.
struct IdRange {
  var lo: Int64, hi: Int64, stride: Int64
  func contains(_ v: Int64) -> Bool { v >= lo && v <= hi && (v - lo) % stride == 0 }
}
