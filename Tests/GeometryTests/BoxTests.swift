import Geometry
import TesseraTestSupport
import XCTest

final class BoxTests: XCTestCase {
  let triclinic = Box(lo: SIMD3(-1, 0.5, 2), hi: SIMD3(4, 6.5, 9), xy: 1.2, xz: -0.7, yz: 0.9)

  func testFractionalRoundTrip() {
    let x = SIMD3<Double>(3.3, -2.1, 15.0)
    let lambda = triclinic.fractional(x)
    let back = triclinic.lo + triclinic.cartesian(fromFractional: lambda)
    XCTAssertEqual(back.x, x.x, accuracy: 1e-12)
    XCTAssertEqual(back.y, x.y, accuracy: 1e-12)
    XCTAssertEqual(back.z, x.z, accuracy: 1e-12)
  }

  func testWrapCountsImagesAndPreservesUnwrappedPosition() {
    var x = SIMD3<Double>(30.0, -12.5, 25.0)
    let original = x
    var image = SIMD3<Int32>(0, 0, 0)
    triclinic.wrap(&x, image: &image)
    let lambda = triclinic.fractional(x)
    for d in 0..<3 { XCTAssert(lambda[d] >= 0 && lambda[d] < 1, "λ[\(d)] = \(lambda[d])") }
    XCTAssertNotEqual(image, SIMD3(0, 0, 0))
    let unwrapped = triclinic.unwrapped(x, image: image)
    for d in 0..<3 { XCTAssertEqual(unwrapped[d], original[d], accuracy: 1e-11) }
  }

  func testNonPeriodicDimensionIsNotWrapped() {
    var box = triclinic
    box.periodic = [true, true, false]
    var x = SIMD3<Double>(1, 1, 40)
    var image = SIMD3<Int32>(0, 0, 0)
    box.wrap(&x, image: &image)
    XCTAssertEqual(x.z, 40)
    XCTAssertEqual(image.z, 0)
  }

  func testFaceDistancesOfOrthogonalBoxAreEdgeLengths() {
    let box = Box(lo: .zero, hi: SIMD3(2, 3, 4))
    XCTAssertEqual(box.faceDistance, SIMD3(2, 3, 4))
  }

  func testFaceDistanceTimesFaceAreaIsVolume() {
    let d = triclinic.faceDistance
    // Face spanned by b and c has area V / d.x; compute it directly.
    let b = SIMD3(triclinic.xy, triclinic.length.y, 0)
    let c = SIMD3(triclinic.xz, triclinic.yz, triclinic.length.z)
    let area = (cross(b, c) * cross(b, c)).sum().squareRoot()
    XCTAssertEqual(d.x * area, triclinic.volume, accuracy: 1e-10)
  }

  /// Within the range the halo-free callers use it (image shorter than half the smallest face
  /// distance) the minimum image is the shortest of the displacement's 27 neighbouring images, found by
  /// brute force from the image it returns; outside that range it is still the same displacement up to
  /// a lattice vector.
  func testMinimumImageIsShortest() {
    let box = Box(lo: .zero, hi: SIMD3(10, 10, 10), xy: 2, xz: 1, yz: -1)
    let halfFace = box.faceDistance.min() / 2
    var random = SeededRandom(seed: 11)
    var checked = 0
    for sample in 0..<2000 {
      // Displacements up to three box lengths long, in every direction.
      let v = SIMD3(random.uniform(), random.uniform(), random.uniform()) * 60 - 30
      let d = box.minimumImage(v)
      let shift = box.fractionalDisplacement(d - v)
      for k in 0..<3 { XCTAssertEqual(shift[k], shift[k].rounded(), accuracy: 1e-9, "sample \(sample): not a lattice vector") }
      var shortest = d
      for a in -1...1 {
        for b in -1...1 {
          for c in -1...1 {
            let image = d + box.translation(SIMD3(Double(a), Double(b), Double(c)))
            if (image * image).sum() < (shortest * shortest).sum() { shortest = image }
          }
        }
      }
      guard (shortest * shortest).sum().squareRoot() < halfFace else { continue }
      checked += 1
      for k in 0..<3 { XCTAssertEqual(d[k], shortest[k], accuracy: 1e-12, "sample \(sample): \(v) → \(d), shortest \(shortest)") }
    }
    // Non-vacuous: a good share of the samples fall within half a face distance.
    XCTAssertGreaterThan(checked, 500)
  }
}
