import Foundation
import TesseraTestSupport
import XCTest

/// A timestep without a neighbour rebuild allocates nothing on the heap: every buffer is sized at
/// setup or at a rebuild and reused. Counted by valgrind's memcheck (its "total heap usage" line
/// counts every malloc of the process): the same deck run for 2 and for 6 steps must make fewer
/// than 4 more allocations, so a single allocation per step (or per atom, or per neighbour) fails.
/// One rank: Open MPI's own collectives allocate a scratch buffer per call between ranks, which is
/// not Tessera's to remove. Thermo rows are printed at the first and last step only, in both runs.
final class AllocationTests: XCTestCase {
  private let extraSteps = 4

  /// The copper Deep Potential (32 atoms) with its float64 networks, compressed tables, and float32.
  func testDeepPotentialStepsAllocateNothing() throws {
    for options in ["", "compress min_nbor_dist 2.0", "compress min_nbor_dist 2.0 precision float32", "precision float32"] {
      try assertStepsAllocateNothing("""
        units metal
        lattice fcc 3.615
        region box block 0 2 0 2 0 2
        create_box 1 box
        create_atoms 1 box
        mass 1 63.546
        pair_style deepmd \(inputPath("models/cu_se_e2_a/cu_se_e2_a.dp")) \(options)
        pair_coeff * * Cu
        velocity all create 300.0 4928459
        neighbor 2.0 bin
        neigh_modify every 1 delay 0 check yes
        timestep 0.001
        fix 1 all nve
        thermo 0
        run ${steps}
        """, label: "deepmd \(options)")
    }
  }

  /// DPA-3 (cuag_dpa3, 32 atoms, three repflow layers): the graph, the features, the tape and the
  /// gradients of every layer are kept by the evaluator and grow only, the layers' working memory is
  /// allocated once (RepflowScratch).
  func testDPA3StepsAllocateNothing() throws {
    try assertStepsAllocateNothing("""
      units metal
      lattice fcc 3.615
      region box block 0 2 0 2 0 2
      create_box 2 box
      create_atoms 1 box
      mass * 63.546
      pair_style deepmd \(inputPath("models/cuag_dpa3/cuag_dpa3.dp"))
      pair_coeff * * Cu Ag
      velocity all create 300.0 4928459
      neighbor 2.0 bin
      neigh_modify every 1 delay 0 check yes
      timestep 0.001
      fix 1 all nve
      thermo 0
      run ${steps}
      """, label: "dpa3")
  }

  /// The LJ melt (256 atoms) under NVE, a Nosé-Hoover chain and Langevin.
  func testLennardJonesStepsAllocateNothing() throws {
    for fixes in ["fix 1 all nve", "fix 1 all nvt temp 3.0 3.0 0.5", "fix 1 all nve\nfix 2 all langevin 3.0 3.0 0.5 48279"] {
      try assertStepsAllocateNothing(fccCrystalDeck(cells: 4, velocity: "3.0 87287") + "\n" + """
        pair_style lj/cut 2.5
        pair_coeff 1 1 1.0 1.0 2.5
        neighbor 0.3 bin
        neigh_modify every 1 delay 0 check yes
        \(fixes)
        thermo 0
        run ${steps}
        """, label: fixes)
    }
  }

  /// EAM (108 Cu atoms, Cu_u3): ρ and F'(ρ) live in scratch sized at the first evaluation. The three
  /// EAM styles differ only in how their tables are built, not in the step.
  func testEmbeddedAtomStepsAllocateNothing() throws {
    try assertStepsAllocateNothing("""
      units metal
      lattice fcc 3.615
      region box block 0 3 0 3 0 3
      create_box 1 box
      create_atoms 1 box
      pair_style eam
      pair_coeff 1 1 \(inputPath("eam/Cu_u3.eam"))
      velocity all create 300.0 4928459
      neighbor 1.0 bin
      neigh_modify every 1 delay 0 check yes
      timestep 0.001
      fix 1 all nve
      thermo 0
      run ${steps}
      """, label: "eam")
  }

  /// Runs `deck` under memcheck for 2 and 2 + `extraSteps` steps at once and compares their counts.
  private func assertStepsAllocateNothing(_ deck: String, label: String, file: StaticString = #filePath,
                                          line: UInt = #line) throws {
    let dir = try makeScratchDirectory("allocations")
    try deck.write(to: dir.appendingPathComponent("in.deck"), atomically: true, encoding: .utf8)
    var runs: [(steps: Int, process: StartedProcess)] = []
    for steps in [2, 2 + extraSteps] {
      runs.append((steps, try startProcess("/usr/bin/valgrind",
                                           ["--tool=memcheck", "--log-file=valgrind.\(steps)", tesseraBinary,
                                            "run", "in.deck", "-var", "steps", "\(steps)", "--log", "none"],
                                           in: dir, environment: ProcessInfo.processInfo.environment.merging(mpiEnvironment) { $1 },
                                           output: dir.appendingPathComponent("out.\(steps)"),
                                           error: dir.appendingPathComponent("err.\(steps)"))))
    }
    var allocations: [Int] = []
    for (steps, run) in runs {
      let result = run.waitForResult()
      XCTAssertEqual(result.status, 0, "\(label): \(result.combined)", file: file, line: line)
      XCTAssertTrue(result.output.contains("Loop time"), "\(label): the run did not finish", file: file, line: line)
      XCTAssertTrue(result.output.contains("Neighbor list builds = 0"), "\(label): a rebuild may allocate", file: file, line: line)
      let report = try String(contentsOf: dir.appendingPathComponent("valgrind.\(steps)"), encoding: .utf8)
      guard let usage = report.split(separator: "\n").first(where: { $0.contains("total heap usage:") }),
            let count = Int(usage.split(separator: ":")[1].split(separator: " ")[0].replacingOccurrences(of: ",", with: ""))
      else { return XCTFail("\(label): no heap summary in\n\(report)", file: file, line: line) }
      allocations.append(count)
    }
    XCTAssertLessThan(allocations[1] - allocations[0], extraSteps,
                      "\(label): \(allocations[0]) allocations in 2 steps, \(allocations[1]) in \(2 + extraSteps)",
                      file: file, line: line)
  }
}
