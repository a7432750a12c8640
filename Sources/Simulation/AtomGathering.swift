import Output
import Dynamics

extension Simulation {
  /// Every atom, sorted by id, on rank 0 (nil on the others): what data files and restarts hold.
  func gatherAtomsOnRoot() -> GatheredAtoms? {
    let all = comm.gather(GatheredAtoms.packOwned(atoms, masses: masses, energies: nil), root: 0)
    guard comm.isRoot else { return nil }
    return GatheredAtoms(step: step, box: box!, packed: all, hasEnergies: false, sortByID: true)
  }
}

extension Simulation {
  /// The per-atom restart values of `fixes` for every atom, on rank 0 in id order (the order
  /// `gatherAtomsOnRoot` returns atoms in), empty on the other ranks and when no fix keeps any.
  func gatherPerAtomFixValuesOnRoot(_ fixes: [Fix]) -> [Double] {
    let width = fixes.reduce(0) { $0 + $1.restartValuesPerAtom }
    guard width > 0 else { return [] }
    let row = 1 + width
    var mine: [Double] = []
    mine.reserveCapacity(row * atoms.ownedCount)
    for i in 0..<atoms.ownedCount {
      mine.append(Double(atoms.tag[i]))
      for fix in fixes { fix.appendRestartValues(ofOwned: i, to: &mine) }
    }
    let all = comm.gather(mine, root: 0)
    guard comm.isRoot else { return [] }
    let order = (0..<(all.count / row)).sorted { all[row * $0] < all[row * $1] }
    return order.flatMap { k in all[(row * k + 1)..<(row * k + row)] }
  }
}
