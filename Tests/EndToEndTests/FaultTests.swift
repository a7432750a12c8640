import Foundation
import TesseraTestSupport
import Trajectory
import XCTest

/// Machine and physics failures inside a run: a full disk (a file-size limit), overlapping atoms,
/// a rank killed by the system. Each ends the job with a non-zero status and a message naming the
/// cause, and leaves earlier output whole.
final class FaultTests: XCTestCase {
  /// 500 Lennard-Jones atoms, 10 steps; `extra` goes before the `run`.
  func deck(_ extra: String = "", steps: Int = 10) -> String {
    """
    units lj
    lattice fcc 0.8442
    region box block 0 5 0 5 0 5
    create_box 1 box
    create_atoms 1 box
    mass 1 1.0
    velocity all create 1.0 87287
    pair_style lj/cut 2.5
    pair_coeff 1 1 1.0 1.0 2.5
    fix 1 all nve
    thermo 1
    \(extra)
    run \(steps)

    """
  }

  /// `tessera run in.deck` on `ranks` ranks, each under `ulimit -f BLOCKS` (1 KiB blocks); mpirun
  /// itself stays unlimited. The TCP transport stands in for shared memory, whose backing files the
  /// limit would refuse before the run starts.
  func runLimited(_ ranks: Int, blocks: Int, in dir: URL, log: String = "none") throws -> ProcessResult {
    try runProcess("/usr/bin/mpirun", ["--oversubscribe", "-np", "\(ranks)", "/bin/bash", "-c",
                                       "ulimit -f \(blocks); exec '\(tesseraBinary)' run in.deck --log \(log)"],
                   in: dir, environment: ["OMPI_MCA_btl": "self,tcp"])
  }

  func testFullDiskStopsARestartWriteAndKeepsThePreviousRestart() throws {
    for ranks in [1, 2] {
      let dir = try makeScratchDirectory("full-restart")
      try deck("write_restart keep.bin").write(to: dir.appendingPathComponent("in.deck"), atomically: true, encoding: .utf8)
      XCTAssertEqual(try runTessera(ranks: ranks, ["run", "in.deck", "--log", "none"], in: dir).status, 0)
      let before = try Data(contentsOf: dir.appendingPathComponent("keep.bin"))
      XCTAssertGreaterThan(before.count, 16 * 1024, "the restart must outgrow the limit below")
      try deck("run 10\nwrite_restart keep.bin").write(to: dir.appendingPathComponent("in.deck"), atomically: true, encoding: .utf8)
      let result = try runLimited(ranks, blocks: 16, in: dir)
      XCTAssertNotEqual(result.status, 0, result.combined)
      XCTAssertTrue(result.combined.contains("keep.bin: cannot write: File too large"), result.combined)
      XCTAssertEqual(try Data(contentsOf: dir.appendingPathComponent("keep.bin")), before)
      XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted(), ["in.deck", "keep.bin"])
      // The restart left behind still continues a run.
      let resumed = try runDeck("read_restart keep.bin\npair_style lj/cut 2.5\npair_coeff 1 1 1.0 1.0 2.5\nfix 1 all nve\nrun 5\n",
                                named: "in.deck", ranks: ranks, in: dir)
      XCTAssertEqual(resumed.status, 0, resumed.combined)
    }
  }

  func testFullDiskStopsADumpAndKeepsOnlyWholeFrames() throws {
    for ranks in [1, 2] {
      let dir = try makeScratchDirectory("full-dump")
      try deck("dump d all extxyz 1 frames.xyz").write(to: dir.appendingPathComponent("in.deck"), atomically: true, encoding: .utf8)
      let result = try runLimited(ranks, blocks: 200, in: dir)
      XCTAssertNotEqual(result.status, 0, result.combined)
      XCTAssertTrue(result.combined.contains("writing 'frames.xyz' failed: File too large"), result.combined)
      let frames = try ExtendedXYZ.read(contentsOf: dir.appendingPathComponent("frames.xyz").path)
      XCTAssertGreaterThan(frames.count, 0)
      XCTAssertTrue(frames.allSatisfy { $0.positions.count == 3 * 500 })
    }
  }

  func testFullDiskStopsTheLogWithItsPath() throws {
    for ranks in [1, 2] {
      let dir = try makeScratchDirectory("full-log")
      try deck(steps: 2000).write(to: dir.appendingPathComponent("in.deck"), atomically: true, encoding: .utf8)
      let result = try runLimited(ranks, blocks: 8, in: dir, log: "log.run")
      XCTAssertNotEqual(result.status, 0, result.combined)
      XCTAssertTrue(result.combined.contains("cannot write log file 'log.run': File too large"), result.combined)
    }
  }

  /// Two atoms on top of each other: the Lennard-Jones energy is infinite at the first step.
  func testOverlappingAtomsStopTheRunAsNonFinite() throws {
    let data = "overlap\n\n3 atoms\n1 atom types\n0 6 xlo xhi\n0 6 ylo yhi\n0 6 zlo zhi\n\nMasses\n\n1 1.0\n\n"
      + "Atoms # atomic\n\n1 1 1.0 1.0 1.0\n2 1 1.0 1.0 1.0\n3 1 4.0 4.0 4.0\n"
    for ranks in [1, 2] {
      let dir = try makeScratchDirectory("overlap")
      try data.write(to: dir.appendingPathComponent("overlap.data"), atomically: true, encoding: .utf8)
      let result = try runDeck("units lj\nread_data overlap.data\npair_style lj/cut 2.5\npair_coeff 1 1 1.0 1.0 2.5\nfix 1 all nve\nrun 10\n",
                               named: "in.deck", ranks: ranks, in: dir)
      XCTAssertEqual(result.status, 1, result.combined)
      XCTAssertTrue(result.error.contains("ERROR: non-numeric atom coordinates or energy at step 0"), result.combined)
    }
  }

  /// Rebuilds checked only every 5 steps in a hot liquid: atoms may have moved more than half the
  /// skin before a check saw them. Reported as LAMMPS reports them, with LAMMPS's count.
  func testDangerousBuildsAreCountedAsLAMMPSCountsThem() throws {
    let hot = deck("neighbor 0.3 bin\nneigh_modify every 5 delay 0 check yes\nthermo 50", steps: 200)
      .replacingOccurrences(of: "velocity all create 1.0 87287", with: "velocity all create 10.0 87287 loop geom")
    let dir = try makeScratchDirectory("dangerous")
    try hot.write(to: dir.appendingPathComponent("in.deck"), atomically: true, encoding: .utf8)
    let lammps = try runProcess("/usr/bin/lmp", ["-in", "in.deck", "-log", "none"], in: dir)
    let expected = try XCTUnwrap(lammps.output.firstMatch(of: /Dangerous builds = (\d+)/).map { Int($0.1)! }, lammps.combined)
    XCTAssertGreaterThan(expected, 0)
    for ranks in [1, 2] {
      let result = try runTessera(ranks: ranks, ["run", "in.deck", "--log", "none"], in: dir)
      XCTAssertEqual(result.status, 0, result.combined)
      XCTAssertTrue(result.output.contains("Dangerous builds = \(expected)\n"), result.output)
    }
  }

  /// A rank killed with SIGKILL in the middle of a run: mpirun ends the whole job (no rank waits
  /// forever for the dead one) with a non-zero status and says which rank died of what.
  func testAKilledRankEndsTheJob() throws {
    for ranks in [2, 4] {
      let dir = try makeScratchDirectory("killed-rank")
      try deck(steps: 10_000_000).write(to: dir.appendingPathComponent("in.deck"), atomically: true, encoding: .utf8)
      let output = dir.appendingPathComponent("output")
      let process = try startTessera(ranks: ranks, ["run", "in.deck", "--log", "none"], in: dir, output: output)
      // Wait until the run is stepping (thermo rows appear), then kill the last rank.
      let started = Date()
      while !((try? String(contentsOf: output, encoding: .utf8))?.contains("Step") ?? false) {
        XCTAssertLessThan(Date().timeIntervalSince(started), 60, "the run did not start")
        if Date().timeIntervalSince(started) > 60 { process.terminate(); return }
        Thread.sleep(forTimeInterval: 0.1)
      }
      let children = rankProcesses(of: process.processIdentifier)
      XCTAssertEqual(children.count, ranks)
      guard let victim = children.max() else { process.terminate(); return }
      kill(victim, SIGKILL)
      let killed = Date()
      while process.isRunning && Date().timeIntervalSince(killed) < 60 { Thread.sleep(forTimeInterval: 0.1) }
      if process.isRunning {
        for child in rankProcesses(of: process.processIdentifier) { kill(child, SIGKILL) }
        process.terminate()
        XCTFail("the job was still running 60 s after a rank was killed")
        return
      }
      let text = (try? String(contentsOf: output, encoding: .utf8)) ?? ""
      XCTAssertNotEqual(process.terminationStatus, 0, text)
      XCTAssertTrue(text.contains("exited on signal 9 (Killed)"), text)
    }
  }

  /// SIGKILL while restarts are being written (one every step, so the kill most likely lands inside a
  /// write): the file at the path is the last complete one, readable, and it continues the run exactly as
  /// the uninterrupted run goes on — the same state, byte for byte, 20 steps later.
  func testKillWhileWritingARestartLeavesTheLastOneWhole() throws {
    let dir = try makeScratchDirectory("killed-restart")
    let system = fccCrystalDeck(cells: 10, velocity: "1.5 4928459")
    let forces = """
      pair_style lj/cut 2.5
      pair_coeff 1 1 1.0 1.0 2.5
      neighbor 0.3 bin
      fix 1 all nve
      thermo_style custom step pe ke etotal press
      thermo_modify format float %.17g
      thermo 10
      """
    try (system + "\n" + forces + "\nrestart 1 k.bin k.bin\nrun 100000000\n")
      .write(to: dir.appendingPathComponent("in.deck"), atomically: true, encoding: .utf8)
    let output = dir.appendingPathComponent("output")
    let process = try startTessera(ranks: 1, ["run", "in.deck", "--log", "none"], in: dir, output: output)
    let started = Date(), restart = dir.appendingPathComponent("k.bin")
    while !FileManager.default.fileExists(atPath: restart.path) && Date().timeIntervalSince(started) < 60 {
      Thread.sleep(forTimeInterval: 0.1)
    }
    Thread.sleep(forTimeInterval: 2)
    let ranks = rankProcesses(of: process.processIdentifier)
    XCTAssertEqual(ranks.count, 1)
    for rank in ranks { kill(rank, SIGKILL) }
    process.waitUntilExit()
    XCTAssertNotEqual(process.terminationStatus, 0)

    let continued = try runDeck("units lj\natom_style atomic\nread_restart k.bin\n" + forces + "\nrestart 1 c.bin c.bin\nrun 20\n",
                                named: "in.continue", ranks: 1, in: dir)
    XCTAssertEqual(continued.status, 0, continued.combined)
    guard let first = thermoRows(continued.output).first?["Step"] else { return XCTFail(continued.combined) }
    let killedAt = Int(first)
    XCTAssertGreaterThan(killedAt, 0)
    let whole = try runDeck(system + "\n" + forces + "\nrestart 1 u.bin u.bin\nrun \(killedAt + 20)\n",
                            named: "in.whole", ranks: 1, in: dir)
    XCTAssertEqual(whole.status, 0, whole.combined)
    XCTAssertEqual(try Data(contentsOf: dir.appendingPathComponent("c.bin")),
                   try Data(contentsOf: dir.appendingPathComponent("u.bin")),
                   "the restart left by the kill at step \(killedAt) does not continue the run exactly")
  }

  /// The `tessera` processes whose parent is `parent` (mpirun starts local ranks itself).
  func rankProcesses(of parent: Int32) -> [Int32] {
    let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
    return entries.compactMap { Int32($0) }.filter { pid in
      guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")") else { return false }
      let name = stat[stat.index(after: stat.firstIndex(of: "(")!)..<close]
      let fields = stat[stat.index(close, offsetBy: 2)...].split(separator: " ")
      return name == "tessera" && fields.count > 1 && Int32(fields[1]) == parent
    }
  }
}
