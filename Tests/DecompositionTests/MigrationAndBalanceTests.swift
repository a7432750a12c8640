import Atoms
import Communication
import Decomposition
import Geometry
import TesseraTestSupport
import XCTest

/// Atom migration and the shift balancer on simulated ranks.
final class MigrationAndBalanceTests: XCTestCase {
  struct OwnedAtom: Sendable, Equatable {
    var tag: Int64, type: Int32
    var position: SIMD3<Double>, velocity: SIMD3<Double>, image: SIMD3<Int32>
  }

  static func owned(_ atoms: AtomStore) -> [OwnedAtom] {
    (0..<atoms.ownedCount).map {
      OwnedAtom(tag: atoms.tag[$0], type: atoms.type[$0], position: atoms.positionOf($0), velocity: atoms.velocityOf($0),
                image: atoms.imageOf($0))
    }
  }

  /// Every atom starts on a rank chosen at random (most far from their brick: on 8 × 1 × 1 an atom may
  /// cross seven bricks); after `exchange` each rank owns exactly the atoms in its brick, with their
  /// state intact, none lost or duplicated.
  func testMigrationMovesEveryAtomToItsOwner() throws {
    for (name, box) in testBoxes where !name.hasPrefix("tiny") {
      let system = randomSystem(120, box: box, seed: 29)
      for counts in testGrids {
        let label = "\(name) box, grid \(counts.x)×\(counts.y)×\(counts.z)"
        let ranks = counts.x * counts.y * counts.z
        var random = SeededRandom(seed: 3)
        let start = system.map { _ in Int(random.next() >> 33) % ranks }
        let held = try runRanks(ranks) { comm -> [OwnedAtom] in
          let grid = ProcessorGrid(counts: counts, rank: comm.rank)
          let atoms = AtomStore()
          for (atom, rank) in zip(system, start) where rank == comm.rank {
            atoms.appendOwned(tag: atom.tag, type: atom.type, position: atom.position, velocity: atom.velocity, image: atom.image)
          }
          AtomMigration().exchange(atoms, box: box, grid: grid, comm: comm)
          return Self.owned(atoms)
        }
        XCTAssertEqual(held.count, ranks, label)
        let all = held.flatMap { $0 }.sorted { $0.tag < $1.tag }
        XCTAssertEqual(all.map(\.tag), system.map(\.tag), "\(label): atoms lost or duplicated")
        guard all.count == system.count else { continue }
        for (atom, original) in zip(all, system) {
          XCTAssertEqual(atom, OwnedAtom(tag: original.tag, type: original.type, position: original.position,
                                         velocity: original.velocity, image: original.image), label)
        }
        for (rank, atoms) in held.enumerated() {
          let grid = ProcessorGrid(counts: counts, rank: rank)
          let strays = atoms.filter { grid.owner(ofFractional: box.fractional($0.position)) != rank }.map(\.tag)
          XCTAssertEqual(strays, [], "\(label): rank \(rank) holds atoms of other bricks")
        }
        let misplaced = system.indices.filter { i in
          ProcessorGrid(counts: counts, rank: start[i]).owner(ofFractional: box.fractional(system[i].position)) != start[i]
        }
        XCTAssertEqual(misplaced.isEmpty, ranks == 1, "\(label): the atoms must start on other ranks than their owners")
      }
    }
  }

  /// A slab: every atom in the lowest 30 % of x. Uniform cuts on 4 × 1 × 1 put 5/6 of the atoms in the
  /// first brick (imbalance 10/3); balancing along x (bisection as `balance`, interpolation as `fix
  /// balance`) brings every brick within 10 % of the mean, and the halo on the moved cuts still
  /// builds exactly the brute-force shell, thin bricks needing several hops.
  func testShiftBalancerEvensOutASlab() throws {
    let box = testBoxes[0].box
    let system = randomSystem(400, box: box, seed: 41) { random in
      SIMD3(0.3 * random.uniform(), random.uniform(), random.uniform())
    }
    let counts = SIMD3(4, 1, 1)
    let fractions = system.map { box.fractional($0.position) }
    XCTAssertEqual(ShiftBalancer.imbalance(loads: [4, 0, 0, 0]), 4)
    for interpolates in [false, true] {
      let label = interpolates ? "interpolating" : "bisecting"
      let results = try runRanks(4) { comm -> [[Double]] in
        var grid = ProcessorGrid(counts: counts, rank: comm.rank)
        let mine = fractions.filter { grid.owner(ofFractional: $0) == comm.rank }
        let before = ShiftBalancer.brickLoads(grid, fractions: mine, comm: comm)
        let balancer = ShiftBalancer(dimensions: [0], maxIterations: 50, stopThreshold: 1.02, interpolates: interpolates)
        _ = try balancer.balance(&grid, fractions: mine, skin: 0.3, lengths: box.length, comm: comm)
        let after = ShiftBalancer.brickLoads(grid, fractions: mine, comm: comm)
        // Brick loads counted here, without the balancer: atoms of all ranks in this rank's new brick.
        let counted = Double(fractions.filter { grid.owner(ofFractional: $0) == comm.rank }.count)
        return [before, after, grid.cuts[0], [counted]]
      }
      let before = results[0][0], after = results[0][1], cuts = results[0][2]
      XCTAssertEqual(before.reduce(0, +), 400, label)
      XCTAssertGreaterThan(ShiftBalancer.imbalance(loads: before), 3, label)
      XCTAssertEqual(after, results.map { $0[3][0] }, "\(label): loads vs the atoms in each brick")
      XCTAssertEqual(after.reduce(0, +), 400, label)
      XCTAssertLessThan(ShiftBalancer.imbalance(loads: after), 1.1, "\(label): loads \(after), cuts \(cuts)")
      XCTAssertEqual(cuts.first, 0)
      XCTAssertEqual(cuts.last, 1)
      XCTAssertTrue(zip(cuts, cuts.dropFirst()).allSatisfy { $0 < $1 }, "\(label): cuts \(cuts)")
      for rank in 1..<4 { XCTAssertEqual(results[rank][2], cuts, "\(label): every rank has the same cuts") }
      try assertHaloOnCuts(cuts, system: system, box: box, counts: counts, label: label)
    }
  }

  /// Ghosts on non-uniform cuts equal the brute-force shell of each brick.
  func assertHaloOnCuts(_ cuts: [Double], system: [SystemAtom], box: Box, counts: SIMD3<Int>, label: String) throws {
    let cutoff = 2.8
    let ghosts = try runRanks(counts.x * counts.y * counts.z) { comm -> [GhostKey] in
      var grid = ProcessorGrid(counts: counts, rank: comm.rank)
      grid.setCuts(cuts, along: 0)
      let atoms = ownedAtoms(system, box: box, grid: grid)
      HaloExchange().borders(atoms, box: box, grid: grid, cutoff: cutoff, comm: comm)
      return (atoms.ownedCount..<atoms.totalCount).map { ghostKey(atoms, $0, system: system, box: box) }
    }
    for (rank, received) in ghosts.enumerated() {
      var grid = ProcessorGrid(counts: counts, rank: rank)
      grid.setCuts(cuts, along: 0)
      let expected = expectedGhosts(system, box: box, grid: grid, cutoff: cutoff)
      XCTAssertEqual(received.count, expected.count, "\(label): rank \(rank) ghost count on cuts \(cuts)")
      XCTAssertEqual(Set(received), expected, "\(label): rank \(rank) ghosts on cuts \(cuts)")
    }
  }
}
