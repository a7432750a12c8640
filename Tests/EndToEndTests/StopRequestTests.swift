import Foundation
import TesseraTestSupport
import XCTest

/// What a batch job's end looks like: a signal or the wall-time limit makes every rank finish its
/// step, write a restart and exit 0, and the run continues from that restart.
final class StopRequestTests: XCTestCase {
  let deck = fccCrystalDeck(cells: 5, velocity: "1.5 4928459") + "\n" + """
    pair_style lj/cut 2.5
    pair_coeff 1 1 1.0 1.0 2.5
    fix 1 all nve
    restart 100000 job.restart job.restart
    thermo 100
    run 100000000
    print "not reached"
    """

  /// Starts `tessera run in.stop` (under mpirun when `ranks` > 0), waits for the first thermo rows,
  /// sends `signal` to it, and returns its exit status and output.
  func runAndSignal(_ signal: Int32, ranks: Int, in dir: URL) throws -> (Int32, String) {
    try deck.write(to: dir.appendingPathComponent("in.stop"), atomically: true, encoding: .utf8)
    let log = dir.appendingPathComponent("out.txt")
    let process = try startTessera(ranks: ranks, ["run", "in.stop", "--log", "none"], in: dir, output: log)
    let deadline = Date().addingTimeInterval(60)
    while Date() < deadline, !((try? String(contentsOf: log, encoding: .utf8)) ?? "").contains("\n     200 ") {
      Thread.sleep(forTimeInterval: 0.1)
    }
    kill(process.processIdentifier, signal)
    process.waitUntilExit()
    return (process.terminationStatus, try String(contentsOf: log, encoding: .utf8))
  }

  func assertStoppedAndResumable(_ status: Int32, _ output: String, reason: String, in dir: URL) throws {
    XCTAssertEqual(status, 0, output)
    XCTAssertTrue(output.contains(reason) && output.contains("restart written to job.restart; stopping"), output)
    XCTAssertFalse(output.contains("not reached"), output)
    let resumed = try runTessera(ranks: 1, ["run", "in.resume", "--log", "none"], in: dir)
    XCTAssertEqual(resumed.status, 0, resumed.combined)
    XCTAssertTrue(resumed.output.contains("atoms at step"), resumed.output)
  }

  func writeResumeDeck(in dir: URL) throws {
    try "units lj\natom_style atomic\nread_restart job.restart\npair_style lj/cut 2.5\npair_coeff 1 1 1.0 1.0 2.5\nfix 1 all nve\nrun 10\n"
      .write(to: dir.appendingPathComponent("in.resume"), atomically: true, encoding: .utf8)
  }

  func testSIGTERMWritesARestartAndExitsZero() throws {
    let dir = try makeScratchDirectory("sigterm")
    try writeResumeDeck(in: dir)
    let (status, output) = try runAndSignal(SIGTERM, ranks: 0, in: dir)
    try assertStoppedAndResumable(status, output, reason: "Caught SIGTERM at step", in: dir)
  }

  /// mpirun passes SIGUSR1 on to every rank (what `sbatch --signal=USR1@…` sends).
  func testSIGUSR1ThroughMpirunStopsEveryRank() throws {
    let dir = try makeScratchDirectory("sigusr1")
    try writeResumeDeck(in: dir)
    let (status, output) = try runAndSignal(SIGUSR1, ranks: 2, in: dir)
    try assertStoppedAndResumable(status, output, reason: "Caught SIGUSR1 at step", in: dir)
  }

  func testMaxWalltimeStopsCleanly() throws {
    let dir = try makeScratchDirectory("walltime")
    try writeResumeDeck(in: dir)
    try deck.write(to: dir.appendingPathComponent("in.stop"), atomically: true, encoding: .utf8)
    let result = try runTessera(ranks: 2, ["run", "in.stop", "--log", "none", "--max-walltime", "00:00:02"], in: dir)
    try assertStoppedAndResumable(result.status, result.combined, reason: "Wall-time limit reached at step", in: dir)
    let bad = try runTessera(ranks: 1, ["run", "in.stop", "--max-walltime", "2h"], in: dir)
    XCTAssertNotEqual(bad.status, 0)
    XCTAssertTrue(bad.combined.contains("--max-walltime expects HH:MM:SS, got '2h'"), bad.combined)
  }
}
