import Atoms
import Geometry
import Neighbors
import XCTest

/// `neigh_modify every N delay M check yes|no` as LAMMPS's `Neighbor::decide`: which steps rebuild,
/// the half-skin trigger (less what a changing box used of the skin), and dangerous builds.
final class RebuildPolicyTests: XCTestCase {
  let box = Box(lo: .zero, hi: SIMD3(10, 10, 10))

  func atoms(_ x: [SIMD3<Double>]) -> AtomStore {
    let store = AtomStore()
    for (i, p) in x.enumerated() { store.appendOwned(tag: Int64(i + 1), type: 1, position: p) }
    return store
  }

  func policy(every: Int, delay: Int, check: Bool, skin: Double = 0.4) -> RebuildPolicy {
    var settings = RebuildSettings(skin: skin)
    settings.every = every
    settings.delay = delay
    settings.check = check
    return RebuildPolicy(settings: settings)
  }

  /// Without checking, a rebuild on every step that is a multiple of `every` and at least `delay`
  /// steps after the last build.
  func testUncheckedRebuildsFollowEveryAndDelay() {
    for (every, delay, expected) in [(1, 0, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]), (3, 0, [3, 6, 9, 12]),
                                     (2, 5, [6, 12]), (4, 4, [4, 8, 12]), (5, 3, [5, 10])] {
      let store = atoms([SIMD3(1, 1, 1)])
      let rebuilds = policy(every: every, delay: delay, check: false)
      rebuilds.didBuild(store, box: box)
      var steps: [Int] = []
      for step in 1...12 where rebuilds.shouldRebuild(store, box: box, anyRankMoved: { $0 }) {
        steps.append(step)
        rebuilds.didBuild(store, box: box)
      }
      XCTAssertEqual(steps, expected, "every \(every) delay \(delay)")
      XCTAssertEqual(rebuilds.builds, 1 + expected.count)
    }
  }

  /// With checking, a rebuild once some atom moved more than half the skin since the last build, on
  /// any rank: the reduction sees this rank's verdict.
  func testCheckedRebuildWhenAnAtomMovesHalfTheSkin() {
    let store = atoms([SIMD3(1, 1, 1), SIMD3(5, 5, 5)])
    let rebuilds = policy(every: 1, delay: 0, check: true, skin: 0.4)
    rebuilds.didBuild(store, box: box)
    var verdicts: [Bool] = []
    XCTAssertFalse(rebuilds.shouldRebuild(store, box: box) { verdicts.append($0); return $0 })
    store.setPosition(1, SIMD3(5, 5, 5.199))
    XCTAssertFalse(rebuilds.shouldRebuild(store, box: box) { verdicts.append($0); return $0 })
    store.setPosition(1, SIMD3(5.12, 5, 5.161))  // 0.2009 from the build position
    XCTAssertTrue(rebuilds.shouldRebuild(store, box: box) { verdicts.append($0); return $0 })
    XCTAssertEqual(verdicts, [false, false, true])
    // Another rank's atom moved: this rank rebuilds too.
    store.setPosition(1, SIMD3(5, 5, 5))
    XCTAssertTrue(rebuilds.shouldRebuild(store, box: box) { _ in true })
    XCTAssertEqual(rebuilds.dangerousBuilds, 0, "step 3 and 4 are not the first allowed checks")
  }

  /// A rebuild triggered on the first step a check is allowed may have come too late: dangerous.
  func testRebuildOnTheFirstAllowedStepIsDangerous() {
    let store = atoms([SIMD3(1, 1, 1)])
    let rebuilds = policy(every: 1, delay: 3, check: true, skin: 0.4)
    rebuilds.didBuild(store, box: box)
    store.setPosition(0, SIMD3(1.5, 1, 1))
    XCTAssertFalse(rebuilds.shouldRebuild(store, box: box) { $0 }, "within the delay")
    XCTAssertFalse(rebuilds.shouldRebuild(store, box: box) { $0 }, "within the delay")
    XCTAssertTrue(rebuilds.shouldRebuild(store, box: box) { $0 })
    XCTAssertEqual(rebuilds.dangerousBuilds, 1)
    rebuilds.resetStatistics()
    XCTAssertEqual(rebuilds.builds, 0)
    XCTAssertEqual(rebuilds.dangerousBuilds, 0)
  }

  /// A box that grew since the build used part of the skin: the lo and hi corners moved by 0.1 each
  /// (√3·0.05 ≈ 0.0866 each), so the trigger is (0.4 − 0.1732)/2 ≈ 0.1134 instead of 0.2.
  func testAGrowingBoxLowersTheTrigger() {
    let store = atoms([SIMD3(5, 5, 5)])
    let rebuilds = policy(every: 1, delay: 0, check: true, skin: 0.4)
    rebuilds.didBuild(store, box: box)
    let grown = Box(lo: SIMD3(repeating: -0.05), hi: SIMD3(repeating: 10.05))
    store.setPosition(0, SIMD3(5.11, 5, 5))
    XCTAssertFalse(rebuilds.shouldRebuild(store, box: grown) { $0 })
    XCTAssertFalse(rebuilds.shouldRebuild(store, box: box) { $0 }, "0.11 < 0.2 in the unchanged box")
    store.setPosition(0, SIMD3(5.117, 5, 5))
    XCTAssertTrue(rebuilds.shouldRebuild(store, box: grown) { $0 })
  }
}
