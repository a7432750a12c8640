import Atoms
import Communication
import Geometry

/// Ghost atoms: copies of atoms of neighbouring bricks (and periodic images) within the ghost
/// cutoff of this rank's brick, built by Plimpton's staged swaps (LAMMPS `CommBrick`).
///
/// `borders` walks the dimensions x, y, z. In each it performs pairs of swaps, one sending down
/// (to the rank below, receiving from above) and one sending up, hop after hop while the ghost
/// cutoff reaches further than the bricks already visited. The first hop of a dimension sends from
/// every atom present (owned and the ghosts of earlier dimensions, which is how edges and corners
/// arrive without diagonal messages); later hops forward only what the previous hop in the same
/// direction received. A swap whose partner is this rank (one brick along a dimension) is a copy;
/// crossing the periodic boundary shifts the copy by a box vector, so a box shorter than the cutoff
/// simply yields several images of the same atom.
///
/// Each swap remembers whom it sent and which periodic image it crossed to, so every step
/// `forwardPositions` replays the swaps in order to refresh ghost positions — shifted by the box
/// vectors of the current box, which a barostat may have changed since `borders` — and `reverseForces` replays them backwards, adding ghost forces into the
/// atoms they copy — which after the chain of hops lands on the owners.
public final class HaloExchange {
  struct Swap {
    var dimension: Int
    var sendRank: Int
    var receiveRank: Int
    /// Periodic image the positions sent are moved to, in box vectors (0 or ±1 along `dimension`):
    /// kept as an image rather than a Cartesian shift so that it follows a changing box.
    var image: SIMD3<Double>
    var sendList: [Int32] = []
    var firstReceived = 0
    var receivedCount = 0
  }

  private var swaps: [Swap] = []
  private var sendBuffer: [Double] = []
  private var receiveBuffer: [Double] = []

  public init() {}

  /// Creates the ghost atoms for cutoff `cutoff` (already including the skin).
  public func borders(_ atoms: AtomStore, box: Box, grid: ProcessorGrid, cutoff: Double,
                      comm: Communicator) {
    atoms.clearGhosts()
    swaps.removeAll(keepingCapacity: true)
    let reach = cutoff / box.faceDistance  // ghost cutoff in fractional units, per dimension
    let lower = grid.lower, upper = grid.upper
    for d in 0..<3 {
      let isSingle = grid.counts[d] == 1
      if !box.periodic[d] && isSingle { continue }
      // Hops needed so that the bricks visited span the reach (thin balanced bricks need more).
      let hops = grid.hops(along: d, reach: reach[d])
      var downCandidates = Array(0..<Int32(atoms.totalCount))
      var upCandidates = downCandidates
      for _ in 0..<hops {
        // Send down: the rank below needs atoms within `reach` above its top, i.e. λ < lower + reach.
        let down = makeSwap(atoms, box: box, grid: grid, dimension: d, direction: -1,
                            candidates: downCandidates, comm: comm) { $0 < lower[d] + reach[d] }
        let up = makeSwap(atoms, box: box, grid: grid, dimension: d, direction: +1,
                          candidates: upCandidates, comm: comm) { $0 >= upper[d] - reach[d] }
        downCandidates = Array(Int32(down.firstReceived)..<Int32(down.firstReceived + down.receivedCount))
        upCandidates = Array(Int32(up.firstReceived)..<Int32(up.firstReceived + up.receivedCount))
      }
    }
  }

  /// One swap: selects, sends and appends the received atoms as ghosts.
  private func makeSwap(_ atoms: AtomStore, box: Box, grid: ProcessorGrid, dimension d: Int, direction: Int,
                        candidates: [Int32], comm: Communicator, selects: (Double) -> Bool) -> Swap {
    let sendRank = grid.neighbor(d, direction)
    let receiveRank = grid.neighbor(d, -direction)
    // Crossing the periodic boundary: the lowest brick sending down shifts by +edge, the highest
    // sending up by −edge. On a fixed boundary nothing crosses.
    let crossesBoundary = direction < 0 ? grid.coordinates[d] == 0 : grid.coordinates[d] == grid.counts[d] - 1
    var swap = Swap(dimension: d, sendRank: sendRank, receiveRank: receiveRank, image: .zero)
    if crossesBoundary && box.periodic[d] { swap.image[d] = direction < 0 ? 1 : -1 }
    let shift = box.translation(swap.image)
    let sendsNothing = crossesBoundary && !box.periodic[d]
    sendBuffer.removeAll(keepingCapacity: true)
    if !sendsNothing {
      for i in candidates {
        let x = atoms.positionOf(Int(i))
        if selects(box.fractional(x)[d]) {
          swap.sendList.append(i)
          let y = x + shift
          sendBuffer.append(contentsOf: [y.x, y.y, y.z, Double(atoms.type[Int(i)]), Double(atoms.tag[Int(i)])])
        }
      }
    }
    let n = exchange(sendBuffer, to: sendRank, from: receiveRank, comm: comm)
    swap.firstReceived = atoms.totalCount
    swap.receivedCount = n / 5
    receiveBuffer.withUnsafeBufferPointer { b in
      for k in 0..<swap.receivedCount {
        let o = 5 * k
        atoms.appendGhost(tag: Int64(b[o + 4]), type: Int32(b[o + 3]), position: SIMD3(b[o], b[o + 1], b[o + 2]))
      }
    }
    swaps.append(swap)
    return swap
  }

  /// Sends `values` to `destination`, receiving into `receiveBuffer`; a swap with oneself is a copy.
  private func exchange(_ values: [Double], to destination: Int, from source: Int, comm: Communicator) -> Int {
    if destination == comm.rank && source == comm.rank {
      if receiveBuffer.count < values.count { receiveBuffer = [Double](repeating: 0, count: values.count) }
      for k in 0..<values.count { receiveBuffer[k] = values[k] }
      return values.count
    }
    return values.withUnsafeBufferPointer { comm.sendReceive($0, to: destination, into: &receiveBuffer, from: source) }
  }

  /// Refreshes ghost positions from their originals (every step without a rebuild), images placed
  /// with the vectors of `box`, the current one. Both sides know the counts since `borders`, so each
  /// swap is one message, received straight into the ghost rows it refreshes.
  public func forwardPositions(_ atoms: AtomStore, box: Box, comm: Communicator) {
    let x = atoms.position
    for s in swaps {
      let shift = box.translation(s.image)
      sendBuffer.removeAll(keepingCapacity: true)
      for i in s.sendList {
        let j = 3 * Int(i)
        sendBuffer.append(x[j] + shift.x)
        sendBuffer.append(x[j + 1] + shift.y)
        sendBuffer.append(x[j + 2] + shift.z)
      }
      let ghosts = UnsafeMutableBufferPointer(start: x + 3 * s.firstReceived, count: 3 * s.receivedCount)
      sendBuffer.withUnsafeBufferPointer { exchange($0, to: s.sendRank, into: ghosts, from: s.receiveRank, comm: comm) }
    }
  }

  /// Forward communication of any per-atom array of `width` doubles: each ghost row becomes a copy
  /// of its original's, swaps in order (so multi-hop ghosts copy ghosts already refreshed).
  public func forward(_ values: UnsafeMutablePointer<Double>, width: Int, comm: Communicator) {
    for s in swaps {
      sendBuffer.removeAll(keepingCapacity: true)
      for i in s.sendList {
        let row = values + width * Int(i)
        for c in 0..<width { sendBuffer.append(row[c]) }
      }
      let ghosts = UnsafeMutableBufferPointer(start: values + width * s.firstReceived, count: width * s.receivedCount)
      sendBuffer.withUnsafeBufferPointer { exchange($0, to: s.sendRank, into: ghosts, from: s.receiveRank, comm: comm) }
    }
  }

  /// The handle a force evaluation gets: this halo's swaps on `comm`.
  public func rows(comm: Communicator) -> HaloRows { HaloRows(halo: self, comm: comm) }

  /// Adds ghost forces back into the atoms they were copied from, swaps in reverse order.
  public func reverseForces(_ atoms: AtomStore, comm: Communicator) {
    reverse(atoms.force, width: 3, comm: comm)
  }

  /// Reverse communication of any per-atom array of `width` doubles (ghost rows added into owners).
  public func reverse(_ values: UnsafeMutablePointer<Double>, width: Int, comm: Communicator) {
    for s in swaps.reversed() {
      let count = width * s.sendList.count
      if receiveBuffer.count < count { receiveBuffer = [Double](repeating: 0, count: count) }
      let ghostRows = UnsafeBufferPointer(start: values + width * s.firstReceived, count: width * s.receivedCount)
      receiveBuffer.withUnsafeMutableBufferPointer { received in
        exchange(ghostRows, to: s.receiveRank, into: .init(rebasing: received[0..<count]), from: s.sendRank, comm: comm)
        for (k, i) in s.sendList.enumerated() {
          for c in 0..<width { values[width * Int(i) + c] += received[width * k + c] }
        }
      }
    }
  }

  /// A swap whose counts both sides know; with oneself, a copy.
  private func exchange(_ values: UnsafeBufferPointer<Double>, to destination: Int,
                        into incoming: UnsafeMutableBufferPointer<Double>, from source: Int, comm: Communicator) {
    if destination == comm.rank && source == comm.rank {
      for k in 0..<incoming.count { incoming[k] = values[k] }
    } else {
      comm.sendReceive(values, to: destination, into: incoming, from: source)
    }
  }
}

/// `GhostRows` on a halo's stored swaps, counted in the communicator's traffic like every swap.
public struct HaloRows: GhostRows {
  let halo: HaloExchange
  let comm: Communicator
  public func forward(_ rows: UnsafeMutablePointer<Double>, width: Int) { halo.forward(rows, width: width, comm: comm) }
  public func reverse(_ rows: UnsafeMutablePointer<Double>, width: Int) { halo.reverse(rows, width: width, comm: comm) }
}
