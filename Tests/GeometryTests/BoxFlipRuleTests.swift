import Geometry
import XCTest

/// LAMMPS's box flip rule: thresholds at 0.6 box lengths (strictly below −0.6 L, at +0.6 L and above),
/// yz before xz and xy with its shift of xz, and image flags that keep every unwrapped position.
final class BoxFlipRuleTests: XCTestCase {
  func box(xy: Double = 0, xz: Double = 0, yz: Double = 0) -> Box {
    Box(lo: SIMD3(-1, 2, 0.5), hi: SIMD3(9, 12, 8.5), xy: xy, xz: xz, yz: yz)
  }

  func testThresholdsAreLammps() {
    XCTAssertNil(BoxFlip(box(xy: 5.99, xz: -5.99, yz: 5.99)))
    XCTAssertNil(BoxFlip(box(xy: -6)), "−0.6 L itself does not flip")
    let up = BoxFlip(box(xy: 6))
    XCTAssertEqual(up?.xy, -1, "+0.6 L flips")
    XCTAssertEqual(up?.box.xy, -4)
    let down = BoxFlip(box(xz: -6.5))
    XCTAssertEqual(down?.xz, 1)
    XCTAssertEqual(down?.box.xz, 3.5)
    XCTAssertEqual(down?.box.length, box().length)
    XCTAssertEqual(down?.box.lo, box().lo)
  }

  /// A yz flip replaces c by c ± b, so xz moves by the old xy; xz is then checked against its own
  /// threshold and may flip in the same call.
  func testYzFlipShiftsXzByXy() {
    let flip = BoxFlip(box(xy: 3, xz: 4, yz: 7))!
    XCTAssertEqual([flip.xy, flip.xz, flip.yz], [0, 0, -1])
    XCTAssertEqual([flip.box.xy, flip.box.xz, flip.box.yz], [3, 1, -3])
    let both = BoxFlip(box(xy: -3, xz: 4, yz: 7))!
    XCTAssertEqual([both.xy, both.xz, both.yz], [0, -1, -1])
    XCTAssertEqual([both.box.xy, both.box.xz, both.box.yz], [-3, -3, -3])
  }

  /// Unwrapped positions are the same before and after every kind of flip, also once the atoms are
  /// wrapped into the new box.
  func testImagesKeepUnwrappedPositions() {
    let before = box(xy: 6.2, xz: 6.4, yz: -6.1)
    let flip = BoxFlip(before)!
    XCTAssertEqual([flip.xy, flip.xz, flip.yz], [-1, -1, 1])
    var generator = SystemRandomNumberGenerator()
    for _ in 0..<200 {
      let lambda = SIMD3<Double>((0..<3).map { _ in Double.random(in: 0..<1, using: &generator) })
      var x = before.lo + before.cartesian(fromFractional: lambda)
      let image = SIMD3<Int32>((0..<3).map { _ in Int32.random(in: -3...3, using: &generator) })
      let unwrapped = before.unwrapped(x, image: image)
      var flipped = flip.image(image)
      XCTAssertEqual(flip.box.unwrapped(x, image: flipped), unwrapped, accuracy: 1e-12)
      flip.box.wrap(&x, image: &flipped)
      for d in 0..<3 { XCTAssert((0..<1).contains(flip.box.fractional(x)[d])) }
      XCTAssertEqual(flip.box.unwrapped(x, image: flipped), unwrapped, accuracy: 1e-12)
    }
  }
}

private func XCTAssertEqual(_ a: SIMD3<Double>, _ b: SIMD3<Double>, accuracy: Double,
                            file: StaticString = #filePath, line: UInt = #line) {
  for d in 0..<3 { XCTAssertEqual(a[d], b[d], accuracy: accuracy, "component \(d)", file: file, line: line) }
}
