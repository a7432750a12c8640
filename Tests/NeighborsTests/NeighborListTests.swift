import Atoms
import Geometry
import Neighbors
import TesseraTestSupport
import XCTest

/// Half and full lists against brute force over periodic images, in orthogonal and triclinic boxes,
/// on one brick and on a box cut into bricks (each with its ghost shell built here by brute force,
/// without the halo): a full list holds every neighbour of every owned atom, a half list every pair
/// exactly once over all bricks.
final class NeighborListTests: XCTestCase {
  /// An atom or ghost as the oracle names it: atom `tag`'s periodic image `image`.
  struct Site: Hashable, Comparable {
    var tag: Int64
    var image: SIMD3<Int>
    static func < (a: Self, b: Self) -> Bool { (a.tag, a.image.x, a.image.y, a.image.z) < (b.tag, b.image.x, b.image.y, b.image.z) }
  }

  /// A pair of sites with the first one's image moved to zero, the smaller tag first: the same for a
  /// pair and its copy translated by a lattice vector.
  struct Pair: Hashable {
    var first: Int64, second: Int64, image: SIMD3<Int>
    init(_ a: Site, _ b: Site) {
      var d = b.image &- a.image
      var (p, q) = (a.tag, b.tag)
      if p > q || (p == q && (d.x, d.y, d.z) < (0, 0, 0)) {
        swap(&p, &q)
        d = .zero &- d
      }
      first = p; second = q; image = d
    }
  }

  let cutoff = 2.6
  let boxes = [
    Box(lo: SIMD3(-1, 0, 0.5), hi: SIMD3(6.0, 5.5, 7.0)),
    Box(lo: SIMD3(0.2, -0.5, 1), hi: SIMD3(6.8, 5.9, 7.4), xy: 1.7, xz: -1.1, yz: 0.9),
    Box(lo: .zero, hi: SIMD3(2.3, 2.0, 2.6), xy: 0.6, xz: -0.4, yz: 0.5),  // smaller than the cutoff
  ]

  func positions(_ count: Int, box: Box, seed: UInt64) -> [SIMD3<Double>] {
    var random = SeededRandom(seed: seed)
    return (0..<count).map { _ in box.lo + box.cartesian(fromFractional: SIMD3(random.uniform(), random.uniform(), random.uniform())) }
  }

  /// The atoms of brick [lower, upper) (fractional) with the ghost shell a list needs: every image of
  /// every atom within `reach` of the brick, found by brute force.
  func brick(_ x: [SIMD3<Double>], box: Box, lower: SIMD3<Double>, upper: SIMD3<Double>) -> (AtomStore, [Site]) {
    let reach = cutoff / box.faceDistance
    let atoms = AtomStore()
    var sites: [Site] = []
    func inside(_ lambda: SIMD3<Double>, _ lo: SIMD3<Double>, _ hi: SIMD3<Double>) -> Bool {
      (0..<3).allSatisfy { lambda[$0] >= lo[$0] && lambda[$0] < hi[$0] }
    }
    for (i, p) in x.enumerated() where inside(box.fractional(p), lower, upper) {
      atoms.appendOwned(tag: Int64(i + 1), type: 1, position: p)
      sites.append(Site(tag: Int64(i + 1), image: .zero))
    }
    let deepest = Int(reach.max().rounded(.up)) + 1
    for (i, p) in x.enumerated() {
      for a in -deepest...deepest {
        for b in -deepest...deepest {
          for c in -deepest...deepest {
            let n = SIMD3(a, b, c)
            let lambda = box.fractional(p) + SIMD3<Double>(n)
            guard inside(lambda, lower - reach, upper + reach), !(n == .zero && inside(lambda, lower, upper)) else { continue }
            atoms.appendGhost(tag: Int64(i + 1), type: 1, position: p + box.translation(SIMD3<Double>(n)))
            sites.append(Site(tag: Int64(i + 1), image: n))
          }
        }
      }
    }
    return (atoms, sites)
  }

  /// Every site within the cutoff (r ≤ r_c) of atom `tag`'s image zero, by brute force.
  func neighbours(of i: Int, _ x: [SIMD3<Double>], box: Box) -> Set<Site> {
    let deepest = Int((cutoff / box.faceDistance).max().rounded(.up)) + 1
    var result = Set<Site>()
    for (j, p) in x.enumerated() {
      for a in -deepest...deepest {
        for b in -deepest...deepest {
          for c in -deepest...deepest {
            let n = SIMD3(a, b, c)
            if i == j && n == .zero { continue }
            let d = p + box.translation(SIMD3<Double>(n)) - x[i]
            if (d * d).sum() <= cutoff * cutoff { result.insert(Site(tag: Int64(j + 1), image: n)) }
          }
        }
      }
    }
    return result
  }

  /// Bricks of a 2 × 3 × 1 cut, and the whole box as one.
  let cuts: [SIMD3<Int>] = [SIMD3(1, 1, 1), SIMD3(2, 3, 1)]

  func bricks(_ counts: SIMD3<Int>) -> [(SIMD3<Double>, SIMD3<Double>)] {
    var result: [(SIMD3<Double>, SIMD3<Double>)] = []
    for k in 0..<counts.z {
      for j in 0..<counts.y {
        for i in 0..<counts.x {
          let c = SIMD3<Double>(SIMD3(i, j, k)), n = SIMD3<Double>(counts)
          result.append((c / n, (c + 1) / n))
        }
      }
    }
    return result
  }

  /// A pair exactly at the cutoff is listed, as LAMMPS's lists (`rsq <= cutneighsq`) and DeePMD-kit's
  /// `build_neighbor_list` keep it; one a rounding step beyond is not. Lattice spacings put real
  /// crystals' shells at exactly such distances.
  func testPairAtTheCutoffIsListed() {
    let box = Box(lo: .zero, hi: SIMD3(10, 10, 10))
    for kind in [NeighborKind.full, .half] {
      for (gap, listed) in [(2.5, true), (2.5.nextUp, false)] {
        let atoms = AtomStore()
        atoms.appendOwned(tag: 1, type: 1, position: SIMD3(1, 1, 1))
        atoms.appendOwned(tag: 2, type: 1, position: SIMD3(1 + gap, 1, 1))
        let list = NeighborList(kind: kind, cutoff: 2.5)
        list.build(atoms, box: box)
        XCTAssertEqual(list.pairCount, listed ? (kind == .full ? 2 : 1) : 0, "\(kind), gap \(gap)")
      }
    }
  }

  func testFullListHoldsEveryNeighbour() {
    for (b, box) in boxes.enumerated() {
      let x = positions(b == 2 ? 7 : 60, box: box, seed: 5 + UInt64(b))
      for counts in cuts {
        var listed = 0
        for (lower, upper) in bricks(counts) {
          let (atoms, sites) = brick(x, box: box, lower: lower, upper: upper)
          let list = NeighborList(kind: .full, cutoff: cutoff)
          list.build(atoms, box: box)
          XCTAssertEqual(list.ownedCount, atoms.ownedCount)
          for i in 0..<atoms.ownedCount {
            let found = list.neighbors[Int(list.offsets[i])..<Int(list.offsets[i + 1])].map { sites[Int($0)] }
            let expected = neighbours(of: Int(atoms.tag[i]) - 1, x, box: box)
            XCTAssertEqual(found.count, expected.count, "box \(b), bricks \(counts), atom \(atoms.tag[i])")
            XCTAssertEqual(Set(found), expected, "box \(b), bricks \(counts), atom \(atoms.tag[i])")
            listed += found.count
          }
        }
        XCTAssertEqual(listed, x.indices.map { neighbours(of: $0, x, box: box).count }.reduce(0, +), "box \(b)")
      }
    }
  }

  func testHalfListHoldsEveryPairOnceOverAllBricks() {
    for (b, box) in boxes.enumerated() {
      let x = positions(b == 2 ? 7 : 60, box: box, seed: 9 + UInt64(b))
      var expected = Set<Pair>()
      for i in x.indices {
        for site in neighbours(of: i, x, box: box) { expected.insert(Pair(Site(tag: Int64(i + 1), image: .zero), site)) }
      }
      XCTAssertGreaterThan(expected.count, x.count)
      for counts in cuts {
        var found: [Pair] = []
        for (lower, upper) in bricks(counts) {
          let (atoms, sites) = brick(x, box: box, lower: lower, upper: upper)
          let list = NeighborList(kind: .half, cutoff: cutoff)
          list.build(atoms, box: box)
          for i in 0..<atoms.ownedCount {
            for j in list.neighbors[Int(list.offsets[i])..<Int(list.offsets[i + 1])] { found.append(Pair(sites[i], sites[Int(j)])) }
          }
        }
        XCTAssertEqual(found.count, expected.count, "box \(b), bricks \(counts): pairs")
        XCTAssertEqual(Set(found).count, found.count, "box \(b), bricks \(counts): a pair listed twice")
        XCTAssertEqual(Set(found), expected, "box \(b), bricks \(counts)")
      }
    }
  }
}
