/// A force evaluation's handle on the halo: per-atom rows of `width` doubles laid out as the
/// `AtomStore` (owned atoms, then ghosts; row i at `rows + width * i`), exchanged along the swaps the
/// last `borders` stored. This is the extension point for potentials that communicate inside one
/// evaluation: EAM forwards F'(ρ) between its passes, message-passing models forward node features
/// after each layer and reverse-sum their gradients. Every rank must call it the same number of
/// times with the same width (it is collective along the swaps).
public protocol GhostRows {
  /// Overwrites every ghost's row with its original's (LAMMPS `comm->forward_comm(pair)`); rows of
  /// owned atoms are read only.
  func forward(_ rows: UnsafeMutablePointer<Double>, width: Int)
  /// Adds every ghost's row into the row of the atom it copies, ghosts of ghosts first, so the sums
  /// land on the owners (LAMMPS `comm->reverse_comm(pair)`). Only the owners' rows are meaningful
  /// afterwards: a ghost that was itself sent on (multi-hop, or edges and corners staged through
  /// earlier dimensions) holds a partial sum, so forward again before reading ghost rows.
  func reverse(_ rows: UnsafeMutablePointer<Double>, width: Int)
}

/// No ghosts to talk to (single points handled by their caller, unit tests of a lone potential).
public struct NoGhostRows: GhostRows {
  public init() {}
  public func forward(_ rows: UnsafeMutablePointer<Double>, width: Int) {}
  public func reverse(_ rows: UnsafeMutablePointer<Double>, width: Int) {}
}
