import Foundation
import TesseraTestSupport
import XCTest

/// The two batch templates of `cluster/slurm/` under a real Slurm (Debian's slurm-wlm, a one-node
/// cluster started by `cluster/slurm/local-cluster.sh` for this test and stopped after it): a
/// copper job gets Slurm's `--signal=B:USR1@…` before its time limit, writes its restart, resubmits
/// itself with a dependency, and the later legs (`read_restart`, `run N upto`) finish the run. The
/// stitched thermo equals an uninterrupted run's, row for row, to 1e-10 relative: a leg that starts
/// between two neighbour-list builds sorts its atoms afresh, so sums run in another order (round-off).
final class SlurmTests: XCTestCase {
  let script = repositoryRoot.appendingPathComponent("cluster/slurm/local-cluster.sh").path

  func testBothTemplatesSurviveTheTimeLimitAndFinishTheRun() throws {
    let dir = try makeScratchDirectory("slurm")
    let model = inputPath("models/cu_se_e2_a/cu_se_e2_a.dp")
    // Steps for about 25 s of one run alone on this machine, so that each chain's first leg (two
    // chains and the reference share the cores) is still running when Slurm's signal comes, 10 to
    // 40 s after it starts (`--time=1 --signal=B:USR1@50`; slurmctld looks every ~30 s).
    let timing = try makeDecks(in: dir.appendingPathComponent("timing"), model: model, steps: 100, thermo: 100)
    let timed = try runTessera(ranks: 2, ["run", timing.first, "--log", "none"], in: timing.directory)
    XCTAssertEqual(timed.status, 0, timed.combined)
    let loop = try XCTUnwrap(timed.output.split(separator: "\n").first { $0.hasPrefix("Loop time of") })
    let secondsPerStep = try XCTUnwrap(Double(loop.split(separator: " ")[3])) / 100
    let steps = min(max(Int(25 / secondsPerStep) / 100 * 100, 500), 100_000)

    let started = try runProcess(script, ["start", dir.appendingPathComponent("cluster").path, "4"])
    XCTAssertEqual(started.status, 0, started.combined)
    defer { _ = try? runProcess(script, ["stop", dir.appendingPathComponent("cluster").path]) }
    let environment = ["SLURM_CONF": dir.appendingPathComponent("cluster/slurm.conf").path]

    var chains: [(name: String, directory: URL)] = []
    for name in ["tessera-mpirun.sbatch", "tessera-srun.sbatch"] {
      let decks = try makeDecks(in: dir.appendingPathComponent(name), model: model, steps: steps, thermo: steps / 10)
      let template = try String(contentsOfFile: repositoryRoot.appendingPathComponent("cluster/slurm/\(name)").path,
                                encoding: .utf8)
      // As the template says: copy it, then set the allocation. One node, two ranks, a minute.
      let edits = [("#SBATCH --nodes=2", "#SBATCH --nodes=1"), ("#SBATCH --ntasks-per-node=16", "#SBATCH --ntasks-per-node=2"),
                   ("#SBATCH --time=24:00:00", "#SBATCH --time=1"), ("#SBATCH --signal=B:USR1@300", "#SBATCH --signal=B:USR1@50")]
      var job = template
      for (from, to) in edits {
        XCTAssertTrue(job.contains(from), "\(name) has \(from)")
        job = job.replacingOccurrences(of: from, with: to)
      }
      let path = decks.directory.appendingPathComponent(name)
      try job.write(to: path, atomically: true, encoding: .utf8)
      let submitted = try runProcess("/usr/bin/sbatch", [path.path], in: decks.directory,
                                     environment: environment.merging(
                                       ["TESSERA": tesseraBinary, "DECK": "in.first", "CONTINUE": "in.continue",
                                        "RESTART": "job.restart"]) { $1 })
      XCTAssertEqual(submitted.status, 0, submitted.combined)
      chains.append((name, decks.directory))
    }

    let reference = try makeDecks(in: dir.appendingPathComponent("reference"), model: model, steps: steps, thermo: steps / 10)
    let uninterrupted = try runTessera(ranks: 2, ["run", reference.first, "--log", "none"], in: reference.directory)
    XCTAssertEqual(uninterrupted.status, 0, uninterrupted.combined)
    let expected = thermoRows(uninterrupted.output)
    XCTAssertEqual(expected.keys.max(), steps)
    XCTAssertEqual(expected.count, 11, "a row every tenth of the run and the first")

    // Every leg resubmits the next before it ends, so the queue is empty only when a chain is done.
    let deadline = Date().addingTimeInterval(600)
    while try !runProcess("/usr/bin/squeue", ["--noheader", "--format=%i"], environment: environment)
      .output.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
      guard Date() < deadline else {
        XCTFail("the chains did not finish within 10 minutes")
        break
      }
      Thread.sleep(forTimeInterval: 2)
    }

    for chain in chains {
      let files = try FileManager.default.contentsOfDirectory(atPath: chain.directory.path).sorted()
      let jobOutputs = files.filter { $0.hasPrefix("tessera-") && $0.hasSuffix(".out") }
      let logs = files.filter { $0.hasPrefix("tessera-") && $0.hasSuffix(".log") }
      let outputs = try jobOutputs.map { try String(contentsOf: chain.directory.appendingPathComponent($0), encoding: .utf8) }
      let handovers = outputs.filter { $0.contains("time limit near: restart written to job.restart") }.count
      XCTAssertGreaterThanOrEqual(handovers, 1, "\(chain.name): Slurm's signal stopped a leg: \(outputs)")
      XCTAssertEqual(jobOutputs.count, handovers + 1, "\(chain.name): one leg per handover and the last: \(files)")
      XCTAssertEqual(logs.count, jobOutputs.count, "\(chain.name): every leg wrote its log: \(files)")
      var stitched: [Int: [Double]] = [:]
      for log in logs {
        let text = try String(contentsOf: chain.directory.appendingPathComponent(log), encoding: .utf8)
        stitched.merge(thermoRows(text)) { first, later in
          assertRowsAgree(first, later, "\(chain.name): the step two legs share")
          return first
        }
      }
      for (step, row) in expected.sorted(by: { $0.key < $1.key }) {
        guard let legs = stitched[step] else {
          XCTFail("\(chain.name): no leg printed step \(step)")
          continue
        }
        assertRowsAgree(legs, row, "\(chain.name): step \(step) of the legs against the uninterrupted run")
      }
    }
  }

  /// The first leg's deck (builds 256 atoms of copper, NVT: enough atoms that 25 s are a few thousand steps at
  /// most, over which the legs' round-off stays far below 1e-10, where 32 atoms ran ~8,000 steps and reached it) and the continuation deck (reads the
  /// restart), both ending at step `steps` with `run … upto`, in `directory`.
  private func makeDecks(in directory: URL, model: String, steps: Int, thermo: Int) throws
    -> (directory: URL, first: String, continuation: String) {
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    let forceField = """
      pair_style      deepmd \(model)
      pair_coeff      * * Cu
      neighbor        2.0 bin
      neigh_modify    every 10 delay 0 check yes
      timestep        0.001
      fix             1 all nvt temp 600 600 0.1
      thermo          \(thermo)
      thermo_modify   format float %.15g
      restart         \(max(thermo / 2, 1)) job.restart job.restart
      run             \(steps) upto

      """
    let first = """
      units           metal
      atom_style      atomic
      lattice         fcc 3.615
      region          box block 0 4 0 4 0 4
      create_box      1 box
      create_atoms    1 box
      mass            1 63.546
      velocity        all create 600 4928459
      """ + "\n" + forceField
    let continuation = "units           metal\nread_restart    job.restart\n" + forceField
    try first.write(to: directory.appendingPathComponent("in.first"), atomically: true, encoding: .utf8)
    try continuation.write(to: directory.appendingPathComponent("in.continue"), atomically: true, encoding: .utf8)
    return (directory, directory.appendingPathComponent("in.first").path,
            directory.appendingPathComponent("in.continue").path)
  }

  private func assertRowsAgree(_ a: [Double], _ b: [Double], _ what: String) {
    XCTAssertEqual(a.count, b.count, what)
    for (x, y) in zip(a, b) { XCTAssertLessThanOrEqual(abs(x - y), 1e-10 * max(abs(x), abs(y)), "\(what): \(a) vs \(b)") }
  }

  /// Thermo rows by step: the lines of numbers under a `Step` header, until `Loop time`.
  private func thermoRows(_ text: String) -> [Int: [Double]] {
    var rows: [Int: [Double]] = [:]
    var inTable = false
    for line in text.split(separator: "\n").map(String.init) {
      let words = line.split(separator: " ")
      if words.first == "Step" { inTable = true; continue }
      if line.hasPrefix("Loop time") { inTable = false; continue }
      guard inTable, let step = words.first.flatMap({ Int($0) }), words.dropFirst().allSatisfy({ Double($0) != nil })
      else { continue }
      rows[step] = words.compactMap { Double($0) }
    }
    return rows
  }
}
