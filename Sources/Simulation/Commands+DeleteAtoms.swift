import Foundation
import InputDeck

extension Simulation {
  /// `delete_atoms region ID | group ID | overlap CUTOFF GROUP1 GROUP2 [compress yes|no]` (LAMMPS
  /// `DeleteAtoms`). With `compress yes`, the default, the remaining atoms are numbered 1…N again in
  /// the order LAMMPS on one rank leaves them when its atoms were stored in id order: it fills each
  /// deleted atom's slot with the last atom and numbers the slots (LAMMPS on several ranks numbers
  /// rank by rank, which depends on the decomposition). With `compress no` they keep their ids,
  /// which then have gaps. Groups follow the renumbering.
  func deleteAtoms(_ c: Command) throws {
    _ = try requireBox(c)
    let style = try c.word(0, "delete_atoms style")
    let doomed: (Int) -> Bool
    var reader: KeywordReader
    switch style {
    case "region":
      let name = try c.word(1, "region ID")
      guard let region = regions[name] else { throw c.error("unknown region '\(name)'") }
      doomed = { [atoms] i in region.contains(atoms.positionOf(i)) }
      reader = KeywordReader(c, from: 2)
    case "group":
      let chosen = try group(named: try c.word(1, "group ID"), c)
      doomed = { [atoms] i in chosen.contains(atoms.tag[i]) }
      reader = KeywordReader(c, from: 2)
    case "overlap":
      let cutoff = try c.double(1, "cutoff")
      guard cutoff >= 0 else { throw c.error("the overlap cutoff must not be negative, got \(cutoff)") }
      let first = try group(named: try c.word(2, "group ID"), c), second = try group(named: try c.word(3, "group ID"), c)
      let neighborCutoff = try makeForceField(c).potential.cutoff + setup.effectiveRebuild(units).skin
      guard cutoff <= neighborCutoff else {
        throw c.error("the overlap cutoff \(cutoff) is beyond the neighbour cutoff \(neighborCutoff) (pair cutoff + skin), as LAMMPS refuses")
      }
      let ids = overlapDeletions(cutoff: cutoff, first, second)
      doomed = { [atoms] i in ids.contains(atoms.tag[i]) }
      reader = KeywordReader(c, from: 4)
    case "random", "porosity", "variable", "condense", "bond", "mol":
      throw c.error("delete_atoms \(style) is not supported (region, group, overlap)")
    default: throw c.error("unsupported delete_atoms style '\(style)' (region, group, overlap)")
    }
    var compress = true
    while let keyword = reader.nextKeyword() {
      switch keyword {
      case "compress": compress = try reader.yesNo()
      default: throw reader.unknownKeyword("compress")
      }
    }
    let marks = (0..<atoms.ownedCount).map { (atoms.tag[$0], doomed($0)) }
    var i = 0
    while i < atoms.ownedCount {
      if doomed(i) { atoms.removeOwned(at: i) } else { i += 1 }
    }
    let before = atomCount
    atomCount = comm.allReduce(atoms.ownedCount, .sum)
    if compress { renumberAtoms(after: marks) }
    console.line("Deleted \(before - atomCount) atoms, new total = \(atomCount)")
  }

  /// Ids 1…N in LAMMPS's one-rank order after deleting `marks` (every owned atom's id before the
  /// deletion and whether it went), on every rank alike; groups and fix states waiting for a run
  /// (from a restart) are carried over to the new ids.
  private func renumberAtoms(after marks: [(Int64, Bool)]) {
    let mine: [Int64] = marks.flatMap { id, gone in [id, gone ? 1 : 0] }
    var all: [(id: Int64, gone: Bool)] = []
    for part in comm.allGatherBytes(mine.withUnsafeBytes { [UInt8]($0) }) {
      part.withUnsafeBytes {
        let values = $0.bindMemory(to: Int64.self)
        for k in stride(from: 0, to: values.count, by: 2) { all.append((values[k], values[k + 1] != 0)) }
      }
    }
    all.sort { $0.id < $1.id }
    var end = all.count, slot = 0
    while slot < end {
      if all[slot].gone { all[slot] = all[end - 1]; end -= 1 } else { slot += 1 }
    }
    let newId = Dictionary(uniqueKeysWithValues: all[..<end].enumerated().map { ($0.element.id, Int64($0.offset + 1)) })
    for i in 0..<atoms.ownedCount { atoms.tag[i] = newId[atoms.tag[i]]! }
    for (name, g) in groups {
      if let ids = g.ids { groups[name] = AtomGroup(ids: Set(ids.compactMap { newId[$0] })) }
    }
    for (fix, values) in pendingPerAtomStates {
      pendingPerAtomStates[fix] = Dictionary(uniqueKeysWithValues: values.compactMap { old, v in newId[old].map { ($0, v) } })
    }
  }
}
