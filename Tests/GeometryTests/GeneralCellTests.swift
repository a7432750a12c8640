import Geometry
import XCTest

/// A general cell in `Box`'s orientation: the same lattice (lengths and angles of its vectors), each
/// lattice vector mapped onto the box's edge vector, distances kept, and a cell already in that
/// orientation left bit for bit.
final class GeneralCellTests: XCTestCase {
  /// FCC primitive vectors (ASE's bulk('Cu')), a skewed cell, and the skewed cell left-handed.
  let cells: [[Double]] = [
    [0, 1.8075, 1.8075, 1.8075, 0, 1.8075, 1.8075, 1.8075, 0],
    [4.1, 0.7, -1.3, 0.9, 5.2, 0.4, -0.6, 1.1, 6.3],
    [4.1, 0.7, -1.3, -0.6, 1.1, 6.3, 0.9, 5.2, 0.4],
  ]

  func testSameLatticeInBoxOrientation() throws {
    for h in cells {
      let cell = try XCTUnwrap(GeneralCell(vectors: h))
      let b = cell.box
      let edges = [SIMD3(b.length.x, 0, 0), SIMD3(b.xy, b.length.y, 0), SIMD3(b.xz, b.yz, b.length.z)]
      let vectors = (0..<3).map { SIMD3(h[3 * $0], h[3 * $0 + 1], h[3 * $0 + 2]) }
      XCTAssertGreaterThan(b.length.min(), 0)
      for i in 0..<3 {
        let mapped = cell.toBox(vectors[i])
        for d in 0..<3 { XCTAssertEqual(mapped[d], edges[i][d], accuracy: 1e-12, "cell \(h) vector \(i)") }
        for j in 0..<3 {
          XCTAssertEqual(dot(edges[i], edges[j]), dot(vectors[i], vectors[j]), accuracy: 1e-12, "Gram \(i)\(j)")
        }
      }
      // Q is orthogonal: any two vectors keep their dot product.
      let u = SIMD3(0.3, -1.2, 2.5), v = SIMD3(1.7, 0.4, -0.8)
      XCTAssertEqual(dot(cell.toBox(u), cell.toBox(v)), dot(u, v), accuracy: 1e-12)
      XCTAssertEqual(dot(cell.toBox(u), cell.toBox(u)), dot(u, u), accuracy: 1e-12)
    }
  }

  func testCellInBoxOrientationMapsBitForBit() throws {
    let h = [11.17035, 0, 0, 1.3014, 10.6281, 0, -0.75915, 0.97605, 10.95345]
    let cell = try XCTUnwrap(GeneralCell(vectors: h))
    XCTAssertEqual(cell.box, Box(lo: .zero, hi: SIMD3(11.17035, 10.6281, 10.95345), xy: 1.3014, xz: -0.75915, yz: 0.97605))
    let x = SIMD3(3.3, -2.1, 15.0)
    XCTAssertEqual(cell.toBox(x), x)
  }

  func testFlatCellIsRefused() {
    XCTAssertNil(GeneralCell(vectors: [1, 0, 0, 0, 1, 0, 1, 1, 0]))
    XCTAssertNil(GeneralCell(vectors: [1, 0, 0, 0, 1, 0, 0, 0, .nan]))
  }
}
