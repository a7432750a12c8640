import Foundation
import InputDeck

extension Simulation {
  /// `delete_atoms region ID | group ID [compress yes|no]` (LAMMPS `DeleteAtoms`). With `compress
  /// yes`, the default, the remaining atoms are numbered 1…N again, in the order of their old ids (LAMMPS
  /// numbers them by rank and local order, which depends on the decomposition); with `compress no`
  /// they keep their ids, which then have gaps. Groups follow the renumbering.
  func deleteAtoms(_ c: Command) throws {
    _ = try requireBox(c)
    let style = try c.word(0, "delete_atoms style")
    let doomed: (Int) -> Bool
    switch style {
    case "region":
      let name = try c.word(1, "region ID")
      guard let region = regions[name] else { throw c.error("unknown region '\(name)'") }
      doomed = { [atoms] i in region.contains(atoms.positionOf(i)) }
    case "group":
      let chosen = try group(named: try c.word(1, "group ID"), c)
      doomed = { [atoms] i in chosen.contains(atoms.tag[i]) }
    case "overlap", "random", "porosity", "variable", "condense", "bond", "mol":
      throw c.error("delete_atoms \(style) is not supported (region, group)")
    default: throw c.error("unsupported delete_atoms style '\(style)' (region, group)")
    }
    var compress = true
    var reader = KeywordReader(c, from: 2)
    while let keyword = reader.nextKeyword() {
      switch keyword {
      case "compress": compress = try reader.yesNo()
      default: throw reader.unknownKeyword("compress")
      }
    }
    var i = 0
    while i < atoms.ownedCount {
      if doomed(i) { atoms.removeOwned(at: i) } else { i += 1 }
    }
    let before = atomCount
    atomCount = comm.allReduce(atoms.ownedCount, .sum)
    if compress { renumberAtoms() }
    console.line("Deleted \(before - atomCount) atoms, new total = \(atomCount)")
  }

  /// Ids 1…N in the order of the current ids, on every rank alike; groups and fix states waiting
  /// for a run (from a restart) are carried over to the new ids.
  private func renumberAtoms() {
    let mine = (0..<atoms.ownedCount).map { atoms.tag[$0] }
    var all: [Int64] = []
    for part in comm.allGatherBytes(mine.withUnsafeBytes { [UInt8]($0) }) {
      part.withUnsafeBytes { all.append(contentsOf: $0.bindMemory(to: Int64.self)) }
    }
    all.sort()
    let newId = Dictionary(uniqueKeysWithValues: all.enumerated().map { ($0.element, Int64($0.offset + 1)) })
    for i in 0..<atoms.ownedCount { atoms.tag[i] = newId[atoms.tag[i]]! }
    for (name, g) in groups {
      if let ids = g.ids { groups[name] = AtomGroup(ids: Set(ids.compactMap { newId[$0] })) }
    }
    for (fix, values) in pendingPerAtomStates {
      pendingPerAtomStates[fix] = Dictionary(uniqueKeysWithValues: values.compactMap { old, v in newId[old].map { ($0, v) } })
    }
  }
}
