import Atoms
import Communication
import Decomposition
import Geometry
import TesseraTestSupport
import XCTest

/// The halo on 1 to 8 simulated ranks against brute force: `borders` builds exactly the ghost shell,
/// and the force evaluation's handle (`HaloExchange.rows`) forwards rows of any width to every ghost
/// and reverse-sums every ghost copy into its owner, moving as many bytes as there are ghosts.
final class HaloExchangeTests: XCTestCase {
  let cutoff = 2.8

  /// What one rank saw: its ghosts and the rows the handle left, for checking on the test's thread.
  struct RankView: Sendable {
    var owned: [Int64] = []
    var ghosts: [GhostKey] = []
    /// Largest distance between a ghost's position and its original's image.
    var worstPosition = 0.0
    /// Per width: every row after `forward` (owned then ghosts).
    var forwarded: [Int: [Double]] = [:]
    /// Owned rows after `reverse`.
    var reversed: [Double] = []
    /// Traffic of `forward` per width, of `forwardPositions` and of `reverseForces`.
    var forwardTraffic: [Int: CommunicationTraffic] = [:]
    var positionTraffic = CommunicationTraffic()
    var forceTraffic = CommunicationTraffic()
    var reverseTraffic = CommunicationTraffic()
  }

  static let widths = [1, 3, 7]

  /// A row value only atom `tag` has, column `c` of `width` (exact in binary: sums stay exact).
  static func ownerRow(_ tag: Int64, _ c: Int, _ width: Int) -> Double { Double(tag) * 16 + Double(c + width * 100) + 0.5 }
  /// The row a ghost holds before `reverse`: distinct per image, so that a copy added twice or missed shows.
  static func ghostRow(_ key: GhostKey, _ c: Int) -> Double {
    Double(key.tag * 1000 + Int64(c)) + Double((key.image.x + 20) * 1_000_000 + (key.image.y + 20) * 10_000 + key.image.z + 20) * 1e3
  }

  /// Builds the halo on every rank of `counts` and records what it did.
  func simulate(_ system: [SystemAtom], box: Box, counts: SIMD3<Int>) throws -> [RankView] {
    let cutoff = self.cutoff
    return try runRanks(counts.x * counts.y * counts.z) { comm -> RankView in
      let grid = ProcessorGrid(counts: counts, rank: comm.rank)
      let atoms = ownedAtoms(system, box: box, grid: grid)
      let halo = HaloExchange()
      halo.borders(atoms, box: box, grid: grid, cutoff: cutoff, comm: comm)
      var view = RankView()
      view.owned = (0..<atoms.ownedCount).map { atoms.tag[$0] }
      let ghostRange = atoms.ownedCount..<atoms.totalCount
      view.ghosts = ghostRange.map { ghostKey(atoms, $0, system: system, box: box) }
      for (i, key) in zip(ghostRange, view.ghosts) {
        let expected = system[Int(key.tag) - 1].position + box.translation(SIMD3<Double>(key.image))
        let d = atoms.positionOf(i) - expected
        view.worstPosition = max(view.worstPosition, (d * d).sum().squareRoot())
      }
      // The handle a potential gets.
      let rows = halo.rows(comm: comm)
      for width in Self.widths {
        var values = [Double](repeating: .nan, count: width * atoms.totalCount)
        for i in 0..<atoms.ownedCount {
          for c in 0..<width { values[width * i + c] = Self.ownerRow(atoms.tag[i], c, width) }
        }
        let before = comm.traffic
        values.withUnsafeMutableBufferPointer { rows.forward($0.baseAddress!, width: width) }
        view.forwardTraffic[width] = comm.traffic - before
        view.forwarded[width] = values
      }
      var values = [Double](repeating: 0, count: 3 * atoms.totalCount)
      for i in 0..<atoms.totalCount {
        for c in 0..<3 {
          values[3 * i + c] = i < atoms.ownedCount ? Self.ownerRow(atoms.tag[i], c, 3) : Self.ghostRow(view.ghosts[i - atoms.ownedCount], c)
        }
      }
      var before = comm.traffic
      values.withUnsafeMutableBufferPointer { rows.reverse($0.baseAddress!, width: 3) }
      view.reverseTraffic = comm.traffic - before
      view.reversed = Array(values[0..<3 * atoms.ownedCount])
      // The per-step refresh and fold-back the run loop does, on the same swaps.
      before = comm.traffic
      halo.forwardPositions(atoms, box: box, comm: comm)
      view.positionTraffic = comm.traffic - before
      before = comm.traffic
      halo.reverseForces(atoms, comm: comm)
      view.forceTraffic = comm.traffic - before
      return view
    }
  }

  func testGhostShellForwardAndReverseMatchBruteForce() throws {
    for (name, box) in testBoxes {
      let system = randomSystem(name.hasPrefix("tiny") ? 9 : 70, box: box, seed: 17)
      for counts in testGrids {
        let label = "\(name) box, grid \(counts.x)×\(counts.y)×\(counts.z)"
        let views = try simulate(system, box: box, counts: counts)
        XCTAssertEqual(views.count, counts.x * counts.y * counts.z, label)
        // Every atom owned exactly once.
        XCTAssertEqual(views.flatMap(\.owned).sorted(), system.map(\.tag), label)
        var copies: [Int64: [GhostKey]] = [:]
        var ghostsByMessage = 0
        for (rank, view) in views.enumerated() {
          let grid = ProcessorGrid(counts: counts, rank: rank)
          let expected = expectedGhosts(system, box: box, grid: grid, cutoff: cutoff)
          XCTAssertGreaterThan(expected.count, 0, label)
          XCTAssertEqual(view.ghosts.count, expected.count, "\(label), rank \(rank): ghost count")
          XCTAssertEqual(Set(view.ghosts).count, view.ghosts.count, "\(label), rank \(rank): a ghost arrived twice")
          let missing = expected.subtracting(view.ghosts), extra = Set(view.ghosts).subtracting(expected)
          XCTAssertTrue(missing.isEmpty && extra.isEmpty,
                        "\(label), rank \(rank): missing \(missing.sorted().prefix(5)), extra \(extra.sorted().prefix(5))")
          XCTAssertLessThan(view.worstPosition, 1e-12 * box.length.max(), "\(label), rank \(rank): ghost positions")
          // The copies the reverse must add up: the brute-force shell's, not the halo's own ghosts.
          for key in expected { copies[key.tag, default: []].append(key) }
          ghostsByMessage += expected.filter { counts[arrivalDimension($0, system: system, box: box, grid: grid)] > 1 }.count
          assertForwardedRows(view, label: "\(label), rank \(rank)")
        }
        // Reverse: each owner's row is its own plus every ghost copy's, on every rank.
        for view in views {
          for (k, tag) in view.owned.enumerated() {
            for c in 0..<3 {
              let expected = Self.ownerRow(tag, c, 3) + (copies[tag] ?? []).map { Self.ghostRow($0, c) }.reduce(0, +)
              XCTAssertEqual(view.reversed[3 * k + c], expected, "\(label): reverse into atom \(tag), column \(c)")
            }
          }
        }
        assertTraffic(views, ghostsByMessage: ghostsByMessage, counts: counts, box: box, label: label)
      }
    }
  }

  /// After `forward`, owned rows are untouched and every ghost row is its original's.
  func assertForwardedRows(_ view: RankView, label: String) {
    for width in Self.widths {
      guard let rows = view.forwarded[width] else { return XCTFail("\(label): no rows of width \(width)") }
      XCTAssertEqual(rows.count, width * (view.owned.count + view.ghosts.count), label)
      let tags = view.owned + view.ghosts.map(\.tag)
      let wrong = tags.indices.first { i in (0..<width).contains { rows[width * i + $0] != Self.ownerRow(tags[i], $0, width) } }
      XCTAssertNil(wrong, "\(label): width \(width), row \(wrong ?? -1) of atom \(wrong.map { tags[$0] } ?? -1)")
    }
  }

  /// The volume the run summary reports: a forward of width w moves 8·w bytes per ghost received by
  /// message, summed over ranks (bytes are counted by the sender: summed over ranks, sent equals
  /// received). Ghosts that arrive by a swap with oneself — every stage along a dimension of one
  /// brick — are copies and not counted. One message per swap with another rank, each way.
  func assertTraffic(_ views: [RankView], ghostsByMessage: Int, counts: SIMD3<Int>, box: Box, label: String) {
    let reach = cutoff / box.faceDistance
    // Swaps per rank with another rank: two per hop along each cut dimension, a hop per brick the reach spans.
    let swapsWithOthers = (0..<3).filter { counts[$0] > 1 }.map { 2 * Int((reach[$0] * Double(counts[$0])).rounded(.up)) }
      .reduce(0, +)
    for width in Self.widths {
      XCTAssertEqual(views.map { $0.forwardTraffic[width]?.bytes ?? -1 }.reduce(0, +), 8 * width * ghostsByMessage,
                     "\(label): bytes of a forward of width \(width)")
      for (rank, view) in views.enumerated() {
        XCTAssertEqual(view.forwardTraffic[width]?.messages, swapsWithOthers, "\(label), rank \(rank): messages")
        XCTAssertEqual(view.forwardTraffic[width]?.collectives, 0, "\(label), rank \(rank): collectives")
      }
    }
    for (what, traffic) in [("reverse", views.map(\.reverseTraffic)), ("forwardPositions", views.map(\.positionTraffic)),
                            ("reverseForces", views.map(\.forceTraffic))] {
      XCTAssertEqual(traffic.map(\.bytes).reduce(0, +), 8 * 3 * ghostsByMessage, "\(label): bytes of \(what)")
      XCTAssertEqual(traffic.map(\.messages), Array(repeating: swapsWithOthers, count: views.count), "\(label): \(what)")
    }
  }

  /// One rank alone: every ghost is a copy, nothing goes on the wire.
  func testSingleRankMovesNothing() throws {
    let box = testBoxes[2].box
    let views = try simulate(randomSystem(40, box: box, seed: 5), box: box, counts: SIMD3(1, 1, 1))
    XCTAssertGreaterThan(views[0].ghosts.count, 0)
    XCTAssertEqual(views[0].forwardTraffic[7], CommunicationTraffic())
    XCTAssertEqual(views[0].reverseTraffic, CommunicationTraffic())
  }

  /// Between rebuilds a barostat changes the box: `forwardPositions` places every ghost at its owner's
  /// moved position plus the image's translation in the current box, not the box of `borders`.
  func testForwardPositionsFollowAChangingBox() throws {
    let box = testBoxes[2].box
    let strained = Box(lo: box.lo - 0.03, hi: box.lo + box.length * SIMD3(1.02, 0.99, 1.01), xy: box.xy + 0.1, xz: box.xz,
                       yz: box.yz - 0.05)
    let system = randomSystem(60, box: box, seed: 23)
    for counts in [SIMD3(1, 1, 1), SIMD3(2, 2, 1), SIMD3(8, 1, 1)] {
      let worst = try runRanks(counts.x * counts.y * counts.z) { comm -> Double in
        let grid = ProcessorGrid(counts: counts, rank: comm.rank)
        let atoms = ownedAtoms(system, box: box, grid: grid)
        let halo = HaloExchange()
        halo.borders(atoms, box: box, grid: grid, cutoff: 2.8, comm: comm)
        let keys = (atoms.ownedCount..<atoms.totalCount).map { ghostKey(atoms, $0, system: system, box: box) }
        // Owned atoms move with the box (same fractional coordinates) plus a small drift.
        func moved(_ tag: Int64) -> SIMD3<Double> {
          let lambda = box.fractional(system[Int(tag) - 1].position)
          return strained.lo + strained.cartesian(fromFractional: lambda) + SIMD3(0.01, -0.02, 0.015) * Double(tag % 3)
        }
        for i in 0..<atoms.ownedCount { atoms.setPosition(i, moved(atoms.tag[i])) }
        halo.forwardPositions(atoms, box: strained, comm: comm)
        var worst = 0.0
        for (k, key) in keys.enumerated() {
          let d = atoms.positionOf(atoms.ownedCount + k) - (moved(key.tag) + strained.translation(SIMD3<Double>(key.image)))
          worst = max(worst, (d * d).sum().squareRoot())
        }
        return keys.isEmpty ? .infinity : worst
      }
      XCTAssertLessThan(worst.max()!, 1e-12, "grid \(counts)")
    }
  }
}
