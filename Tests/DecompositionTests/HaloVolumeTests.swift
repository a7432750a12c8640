import Atoms
import Communication
import Decomposition
import Geometry
import TesseraTestSupport
import XCTest

/// The run summary's Comm bytes (EndToEndTests' CommunicationVolumeTests checks them under `mpirun`)
/// come from the halo's swaps: here, in-process, the same 8 × 8 × 8 fcc crystal cut along x moves
/// 8·w bytes per ghost received across the x faces for a forward of width w, with the ghost count
/// taken from the lattice alone.
final class HaloVolumeTests: XCTestCase {
  /// A reverse that moved other than what the forward of the same width moved.
  struct ReverseVolume: Error { var forward, reverse: CommunicationTraffic }

  let cells = 8, cutoff = 2.5 + 0.3
  var lattice: Double { pow(4 / 0.8442, 1.0 / 3) }

  /// Ghosts a brick receives across its two x faces, from the lattice's planes of constant x: the
  /// planes of the brick above within the cutoff of the face, and those of the brick below (through
  /// the periodic boundary for the first brick). Each plane holds 2·cells² atoms of the 4-atom basis.
  func ghostsAcrossXFaces(ranks: Int) -> Int {
    let reach = cutoff / (Double(cells) * lattice), width = 1 / Double(ranks)
    var count = 0
    for plane in 0..<(2 * cells) {
      let lambda = Double(plane) / Double(2 * cells)
      // Distance above the brick's top face (periodically) and below its bottom face, for brick 0.
      let above = lambda - width, below = 1 - lambda
      if above >= 0 && above < reach { count += 2 * cells * cells }
      if below > 0 && below <= reach { count += 2 * cells * cells }
    }
    return count
  }

  func crystal() -> [SIMD3<Double>] {
    var x: [SIMD3<Double>] = []
    let basis: [SIMD3<Double>] = [SIMD3(0, 0, 0), SIMD3(0.5, 0.5, 0), SIMD3(0.5, 0, 0.5), SIMD3(0, 0.5, 0.5)]
    for i in 0..<cells { for j in 0..<cells { for k in 0..<cells {
      for b in basis { x.append((SIMD3(Double(i), Double(j), Double(k)) + b) * lattice) }
    } } }
    return x
  }

  func testForwardVolumeIsEightBytesPerColumnPerGhost() throws {
    let box = Box(lo: .zero, hi: SIMD3(repeating: Double(cells) * lattice))
    let positions = crystal(), cutoff = self.cutoff
    XCTAssertEqual(positions.count, 4 * cells * cells * cells)
    for ranks in [2, 4] {
      let ghosts = ghostsAcrossXFaces(ranks: ranks)
      // Four planes of 128 atoms above a brick, three below (the plane on the bottom face is the brick's own).
      XCTAssertEqual(ghosts, 7 * 128)
      let traffic = try runRanks(ranks) { comm -> [CommunicationTraffic] in
        let grid = ProcessorGrid(counts: SIMD3(ranks, 1, 1), rank: comm.rank)
        let atoms = AtomStore()
        for (i, x) in positions.enumerated() where grid.owner(ofFractional: box.fractional(x)) == comm.rank {
          atoms.appendOwned(tag: Int64(i + 1), type: 1, position: x)
        }
        let halo = HaloExchange()
        halo.borders(atoms, box: box, grid: grid, cutoff: cutoff, comm: comm)
        let rows = halo.rows(comm: comm)
        return try [1, 3, 7].map { width in
          var values = [Double](repeating: 1, count: width * atoms.totalCount)
          let before = comm.traffic
          values.withUnsafeMutableBufferPointer { rows.forward($0.baseAddress!, width: width) }
          let forward = comm.traffic - before
          let reverseStart = comm.traffic
          values.withUnsafeMutableBufferPointer { rows.reverse($0.baseAddress!, width: width) }
          guard (comm.traffic - reverseStart) == forward else { throw ReverseVolume(forward: forward, reverse: comm.traffic - reverseStart) }
          return forward
        }
      }
      for (rank, perWidth) in traffic.enumerated() {
        for (k, width) in [1, 3, 7].enumerated() {
          // Every brick is alike: each sends what it receives, one message each way.
          XCTAssertEqual(perWidth[k].bytes, 8 * width * ghosts, "\(ranks) ranks, rank \(rank), width \(width)")
          XCTAssertEqual(perWidth[k].messages, 2, "\(ranks) ranks, rank \(rank), width \(width)")
        }
      }
    }
  }
}
