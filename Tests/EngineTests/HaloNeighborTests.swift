import Atoms
import Communication
import Decomposition
import Geometry
import Neighbors
import XCTest

/// Ghosts and neighbour lists against brute force over periodic images, in boxes smaller than the
/// cutoff where each atom sees many images of itself and of the others.
final class HaloNeighborTests: XCTestCase {
  func bruteForceCounts(_ x: [SIMD3<Double>], box: Box, cutoff: Double) -> [Int] {
    let reach = SIMD3<Int>((cutoff / box.faceDistance).rounded(.up)) &+ 1
    return x.indices.map { i in
      var count = 0
      for j in x.indices {
        for a in -reach.x...reach.x {
          for b in -reach.y...reach.y {
            for c in -reach.z...reach.z {
              if i == j && a == 0 && b == 0 && c == 0 { continue }
              let d = x[j] + box.translation(SIMD3(Double(a), Double(b), Double(c))) - x[i]
              if (d * d).sum() < cutoff * cutoff { count += 1 }
            }
          }
        }
      }
      return count
    }
  }

  func testFullAndHalfListsMatchBruteForce() {
    let boxes = [
      Box(lo: .zero, hi: SIMD3(3.1, 2.2, 4.0)),
      Box(lo: SIMD3(1, -2, 0.5), hi: SIMD3(3.6, 1.0, 3.5), xy: 0.9, xz: -0.7, yz: 0.4),
    ]
    let cutoff = 2.9
    for box in boxes {
      let x = randomPositions(12, box: box, minimumDistance: 0.3, seed: 3)
      let expected = bruteForceCounts(x, box: box, cutoff: cutoff)
      let atoms = makeAtoms(x)
      HaloExchange().borders(atoms, box: box, grid: ProcessorGrid(counts: SIMD3(1, 1, 1), rank: 0), cutoff: cutoff,
                             comm: SerialCommunicator())
      let full = NeighborList(kind: .full, cutoff: cutoff)
      full.build(atoms, box: box)
      let half = NeighborList(kind: .half, cutoff: cutoff)
      half.build(atoms, box: box)
      for i in x.indices {
        XCTAssertEqual(Int(full.offsets[i + 1] - full.offsets[i]), expected[i], "atom \(i) in \(box)")
      }
      XCTAssertEqual(2 * half.pairCount, expected.reduce(0, +), "half list holds each pair once")
    }
  }

  func testProcessorGridMinimisesSurface() {
    XCTAssertEqual(ProcessorGrid.choose(ranks: 8, box: Box(lo: .zero, hi: SIMD3(20, 20, 20))), SIMD3(2, 2, 2))
    let box = Box(lo: .zero, hi: SIMD3(10, 10, 40))
    XCTAssertEqual(ProcessorGrid.choose(ranks: 8, box: box), SIMD3(1, 1, 8))
    XCTAssertEqual(ProcessorGrid.choose(ranks: 4, box: box), SIMD3(1, 1, 4))
    XCTAssertEqual(ProcessorGrid.choose(ranks: 4, box: box, requested: SIMD3(2, 0, 0)), SIMD3(2, 1, 2))
    XCTAssertNil(ProcessorGrid.choose(ranks: 4, box: box, requested: SIMD3(3, 0, 0)))
  }
}
