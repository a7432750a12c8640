import Atoms
import Communication
import Geometry

/// Moves owned atoms to the rank whose brick contains them (LAMMPS `Comm::exchange`).
///
/// Dimension by dimension, atoms outside the brick are sent one rank down or up; a receiver keeps
/// those that fall in its slab and passes the rest on in the same direction in the next round, so an
/// atom may travel any number of bricks (rounds repeat until no rank holds a travelling atom). A
/// diagonal move is done one dimension after the other. Requires no ghosts and wrapped positions.
public final class AtomMigration {
  private var sendDown: [Double] = []
  private var sendUp: [Double] = []
  private var receivedDown: [Double] = []
  private var receivedUp: [Double] = []

  public init() {}

  public func exchange(_ atoms: AtomStore, box: Box, grid: ProcessorGrid, comm: Communicator) {
    for d in 0..<3 where grid.counts[d] > 1 {
      // Atoms leaving this slab, by direction of travel.
      sendDown.removeAll(keepingCapacity: true)
      sendUp.removeAll(keepingCapacity: true)
      var i = 0
      while i < atoms.ownedCount {
        let lambda = box.fractional(atoms.positionOf(i))[d]
        let index = grid.brickIndex(lambda, along: d)
        if index == grid.coordinates[d] { i += 1; continue }
        if index < grid.coordinates[d] {
          AtomRecord.pack(atoms, i, into: &sendDown)
        } else {
          AtomRecord.pack(atoms, i, into: &sendUp)
        }
        atoms.removeOwned(at: i)
      }
      while comm.any(!sendDown.isEmpty || !sendUp.isEmpty) {
        let down = grid.neighbor(d, -1), up = grid.neighbor(d, +1)
        let nDown = sendDown.withUnsafeBufferPointer { comm.sendReceive($0, to: down, into: &receivedUp, from: up) }
        let nUp = sendUp.withUnsafeBufferPointer { comm.sendReceive($0, to: up, into: &receivedDown, from: down) }
        sendDown.removeAll(keepingCapacity: true)
        sendUp.removeAll(keepingCapacity: true)
        route(receivedUp, count: nDown, d, atoms, box, grid)
        route(receivedDown, count: nUp, d, atoms, box, grid)
      }
    }
  }

  /// Keeps received atoms that belong here; queues the others onwards.
  private func route(_ buffer: [Double], count: Int, _ d: Int, _ atoms: AtomStore, _ box: Box,
                     _ grid: ProcessorGrid) {
    buffer.withUnsafeBufferPointer { b in
      var offset = 0
      while offset < count {
        let lambda = box.fractional(AtomRecord.position(b, at: offset))[d]
        let index = grid.brickIndex(lambda, along: d)
        if index == grid.coordinates[d] {
          AtomRecord.unpack(b, at: offset, into: atoms)
        } else if index < grid.coordinates[d] {
          sendDown.append(contentsOf: b[offset..<offset + AtomRecord.width])
        } else {
          sendUp.append(contentsOf: b[offset..<offset + AtomRecord.width])
        }
        offset += AtomRecord.width
      }
    }
  }
}
