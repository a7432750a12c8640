import Output

extension Simulation {
  /// This rank's owned atoms in the packed form writers gather (`DumpFrame.pack`); `energies` are the
  /// per-atom energies of the last force evaluation, when it computed them.
  func packedOwnedAtoms(energies: [Double]? = nil) -> [Double] {
    var mine: [Double] = []
    mine.reserveCapacity(DumpFrame.packedWidth * atoms.ownedCount)
    for i in 0..<atoms.ownedCount {
      DumpFrame.pack(id: atoms.tag[i], type: atoms.type[i], position: atoms.positionOf(i), image: atoms.imageOf(i),
                     velocity: atoms.velocityOf(i), force: atoms.forceOf(i), energy: energies?[i] ?? 0,
                     mass: masses[atoms.type[i]], into: &mine)
    }
    return mine
  }

  /// Every atom, sorted by id, on rank 0 (nil on the others): what data files and restarts hold.
  func gatherAtomsOnRoot() -> DumpFrame? {
    let all = comm.gather(packedOwnedAtoms(), root: 0)
    guard comm.isRoot else { return nil }
    return DumpFrame(step: step, box: box!, packed: all, hasEnergies: false, sortByID: true)
  }
}
