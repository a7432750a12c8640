import Foundation
import TesseraTestSupport
import XCTest

/// `balance` and `fix balance` on an LJ slab with vacuum above it, cut along z on 2, 4 and 8 ranks
/// (oversubscribed): the imbalance factors and cuts LAMMPS prints for the same deck, atoms per rank
/// within 10 % of the mean after balancing, and thermo equal to the unbalanced run.
final class LoadBalanceTests: XCTestCase {
  let lammps = "/usr/bin/lmp"

  /// An fcc slab filling about a third of the box along z. `balance` goes between a first run and a
  /// second; `hot` melts the slab first (a crystal's planes cannot be split evenly over many ranks).
  func slabDeck(ranks: Int, balance: String, box: String = "block 0 5 0 5 0 15.3", slab: String = "block 0 5 0 5 0 5",
                temperature: Double = 1.6, integrator: String = "nve", extraThermo: String = "",
                firstRun: Int = 100, secondRun: Int = 200) -> String {
    """
    units lj
    atom_style atomic
    lattice fcc 0.8442
    processors 1 1 \(ranks)
    region box \(box)
    region slab \(slab)
    create_box 1 box
    create_atoms 1 region slab
    mass 1 1.0
    velocity all create \(temperature) 4928459 dist gaussian
    pair_style lj/cut 2.5
    pair_coeff 1 1 1.0 1.0 2.5
    neighbor 0.3 bin
    neigh_modify every 1 delay 0 check yes
    fix 1 all \(integrator)
    thermo_style custom step temp pe ke etotal press pxx pyy pzz lz atoms
    thermo_modify format float %.16g
    thermo 20
    run \(firstRun)
    \(balance)
    run 0
    thermo_style custom step temp pe ke etotal press pxx pyy pzz lz atoms \(extraThermo)
    run \(secondRun)
    """
  }

  func run(_ deck: String, ranks: Int, file: StaticString = #filePath, line: UInt = #line) throws -> String {
    let dir = try makeScratchDirectory("balance")
    try deck.write(to: dir.appendingPathComponent("in.deck"), atomically: true, encoding: .utf8)
    let result = try runTessera(ranks: ranks, ["run", "in.deck", "--log", "none"], in: dir)
    XCTAssertEqual(result.status, 0, result.combined, file: file, line: line)
    return result.output
  }

  /// Thermo of two runs equal to 1e-10 relative (`assertThermoTablesAgree`); `f_` columns, which
  /// only the balanced run prints, are not compared.
  func assertSameThermo(_ a: String, _ b: String, minimumRows: Int = 11, file: StaticString = #filePath, line: UInt = #line) {
    let rowsA = thermoRows(a), rowsB = thermoRows(b)
    XCTAssertGreaterThanOrEqual(rowsA.count, minimumRows, a, file: file, line: line)
    assertThermoTablesAgree(rowsA, rowsB, tolerance: 1e-10, ignoring: { $0.hasPrefix("f_") }, "balanced vs unbalanced",
                            file: file, line: line)
  }

  /// The lines of a balance report (LAMMPS's layout), without the timing.
  func balanceReport(_ output: String) -> [String] {
    output.split(separator: "\n").map(String.init).filter {
      $0.hasPrefix("  iteration count") || $0.hasPrefix("  initial/final") || $0.contains(" cuts: ")
    }
  }

  /// The final imbalance factor a balance printed.
  func printedFinalFactor(_ output: String) -> Double? {
    guard let line = output.split(separator: "\n").first(where: { $0.hasPrefix("  initial/final imbalance factor") }) else {
      return nil
    }
    return line.split(separator: " ").last.flatMap { Double($0) }
  }

  /// Max over mean of the per-rank atom counts in the run summaries (`Nlocal: AVE ave MAX max MIN min`).
  func summaryFactors(_ output: String) -> [Double] {
    output.split(separator: "\n").filter { $0.hasPrefix("Nlocal:") }.map { line in
      let words = line.split(separator: " ").compactMap { Double($0) }
      return words[1] / words[0]
    }
  }

  /// A crystal right after create_atoms: deterministic, and the box length (17.3 lattice units) puts
  /// no lattice plane on a bisection cut, so rounding cannot assign an atom differently.
  func crystalSlabDeck(ranks: Int, _ balance: String) -> String {
    """
    units lj
    atom_style atomic
    lattice fcc 0.8442
    processors 1 1 \(ranks)
    region box block 0 6 0 6 0 17.3
    region slab block 0 6 0 6 0 6
    create_box 1 box
    create_atoms 1 region slab
    mass 1 1.0
    pair_style lj/cut 2.5
    pair_coeff 1 1 1.0 1.0 2.5
    \(balance)
    """
  }

  func testShiftBalanceOfCrystalSlabPrintsWhatLammpsPrints() throws {
    for ranks in [2, 4, 8] {
      let deck = crystalSlabDeck(ranks: ranks, "balance 1.0 shift z 10 1.05")
      let dir = try makeScratchDirectory("balance-lammps")
      try deck.write(to: dir.appendingPathComponent("in.deck"), atomically: true, encoding: .utf8)
      let ours = try runTessera(ranks: ranks, ["run", "in.deck", "--log", "none"], in: dir)
      XCTAssertEqual(ours.status, 0, ours.combined)
      let theirs = try runProcess("/usr/bin/mpirun", ["--oversubscribe", "-np", "\(ranks)", lammps, "-in", "in.deck", "-log", "none"],
                                  in: dir)
      XCTAssertEqual(theirs.status, 0, theirs.combined)
      let report = balanceReport(ours.output)
      XCTAssertEqual(report.count, 6, ours.output)
      XCTAssertEqual(report, balanceReport(theirs.output), "\(ranks) ranks")
      // tessera check -np N works out the same cuts on one rank.
      let check = try runProcess(tesseraBinary, ["check", "in.deck", "-np", "\(ranks)"], in: dir)
      XCTAssertEqual(check.status, 0, check.combined)
      XCTAssertEqual(balanceReport(check.output), report, "check -np \(ranks)")
    }
  }

  func testFixBalanceAtSetupGivesLammpsOutputs() throws {
    // fix balance interpolates its cuts (LAMMPS rho = 1); its four outputs after the setup rebalance.
    let fix = "fix 2 all balance 0 1.05 shift z 10 1.02\nthermo_style custom step f_2 f_2[1] f_2[2] f_2[3]\n"
      + "thermo_modify format float %.15g\nrun 0"
    for ranks in [2, 4, 8] {
      let dir = try makeScratchDirectory("balance-fix-lammps")
      try crystalSlabDeck(ranks: ranks, fix).write(to: dir.appendingPathComponent("in.deck"), atomically: true, encoding: .utf8)
      let ours = try runTessera(ranks: ranks, ["run", "in.deck", "--log", "none"], in: dir)
      XCTAssertEqual(ours.status, 0, ours.combined)
      let theirs = try runProcess("/usr/bin/mpirun", ["--oversubscribe", "-np", "\(ranks)", lammps, "-in", "in.deck", "-log", "none"],
                                  in: dir)
      XCTAssertEqual(theirs.status, 0, theirs.combined)
      let row = try XCTUnwrap(thermoRows(ours.output).first, ours.output)
      XCTAssertEqual(row.count, 5, ours.output)
      XCTAssertEqual(row, thermoRows(theirs.output).first, "\(ranks) ranks")
      XCTAssertGreaterThan(row["f_2[3]"]!, row["f_2"]!)
    }
  }

  func testBalanceEvensOutLiquidSlabAndKeepsThermo() throws {
    for ranks in [2, 4, 8] {
      let plain = try run(slabDeck(ranks: ranks, balance: ""), ranks: ranks)
      let balanced = try run(slabDeck(ranks: ranks, balance: "balance 1.0 shift z 20 1.01"), ranks: ranks)
      let printed = try XCTUnwrap(printedFinalFactor(balanced), balanced)
      XCTAssertLessThanOrEqual(printed, 1.1, "\(ranks) ranks")
      // The summary of `run 0` just after the balance counts each rank's atoms: the same factor.
      let counted = summaryFactors(balanced)
      XCTAssertEqual(counted.count, 3, balanced)
      XCTAssertEqual(counted[1], printed, accuracy: 1e-6, "\(ranks) ranks")
      XCTAssertGreaterThan(summaryFactors(plain)[1], 1.5, "the unbalanced slab is imbalanced")
      assertSameThermo(plain, balanced)
    }
  }

  func testFixBalanceKeepsSlabBalancedDuringRun() throws {
    for ranks in [2, 4, 8] {
      let plain = try run(slabDeck(ranks: ranks, balance: ""), ranks: ranks)
      let balanced = try run(slabDeck(ranks: ranks, balance: "fix 2 all balance 25 1.05 shift z 10 1.01",
                                      extraThermo: "f_2 f_2[1] f_2[2] f_2[3]"), ranks: ranks)
      let rows = thermoRows(balanced)
      // The setup of `run 0` rebalanced the melted slab: before (f_2[3]) far off, after (f_2) within 10 %.
      let last = try XCTUnwrap(rows.last)
      XCTAssertLessThanOrEqual(try XCTUnwrap(last["f_2"]), 1.1, "\(ranks) ranks")
      XCTAssertGreaterThan(try XCTUnwrap(rows.first(where: { $0["f_2"] != nil })?["f_2[3]"]), 1.5)
      let counted = summaryFactors(balanced)
      XCTAssertEqual(counted.count, 3, balanced)
      XCTAssertLessThanOrEqual(counted[2], 1.1, "\(ranks) ranks at the end of the run")
      assertSameThermo(plain, balanced)
    }
  }

  func testCopperDeepPotentialSlabBalances() throws {
    // Eight (001) planes of copper (256 atoms) in a third of the box: the Deep Potential's ghost forces
    // go back through bricks of two planes, several hops deep.
    let model = inputPath("models/cu_se_e2_a/cu_se_e2_a.dp")
    func deck(_ ranks: Int, _ balance: String) -> String {
      """
      units metal
      atom_style atomic
      lattice fcc 3.615
      processors 1 1 \(ranks)
      region box block 0 4 0 4 0 11.7
      region slab block 0 4 0 4 0 3.9
      create_box 1 box
      create_atoms 1 region slab
      mass 1 63.546
      pair_style deepmd \(model)
      pair_coeff * * Cu
      velocity all create 300.0 4928459
      neighbor 2.0 bin
      neigh_modify every 10 delay 0 check yes
      timestep 0.001
      fix 1 all nve
      \(balance)
      thermo_style custom step temp pe ke etotal press pxx pyy pzz
      thermo_modify format float %.16g
      thermo 5
      run 20
      """
    }
    for ranks in [2, 4] {
      let plain = try run(deck(ranks, ""), ranks: ranks)
      let balanced = try run(deck(ranks, "balance 1.0 shift z 20 1.01"), ranks: ranks)
      let dynamic = try run(deck(ranks, "fix 2 all balance 10 1.01 shift z 20 1.01"), ranks: ranks)
      XCTAssertLessThanOrEqual(try XCTUnwrap(printedFinalFactor(balanced), balanced), 1.1)
      XCTAssertGreaterThan(summaryFactors(plain)[0], 1.5)
      for output in [balanced, dynamic] {
        XCTAssertLessThanOrEqual(try XCTUnwrap(summaryFactors(output).first, output), 1.1, "\(ranks) ranks")
        assertSameThermo(plain, output, minimumRows: 5)
      }
    }
  }

  func testBricksThinnerThanGhostCutoffExchangeOverSeveralHops() throws {
    // Seven bricks of 0.26 σ against a ghost cutoff of 2.8 σ: ghosts come from up to 11 bricks away.
    let plain = try run(slabDeck(ranks: 8, balance: ""), ranks: 8)
    let thin = try run(slabDeck(ranks: 8, balance: "balance 1.0 z 0.1 0.11 0.12 0.13 0.14 0.15 0.16"), ranks: 8)
    XCTAssertTrue(thin.contains("  z cuts: 0.0000000 0.10000000 0.11000000"), thin)
    assertSameThermo(plain, thin)
  }

  func testFixBalanceUnderTriclinicBarostatKeepsThermo() throws {
    // Cuts are fractions of the tilted box's edges and stay so as `npt tri` changes the box.
    let box = "prism 0 5 0 5 0 15.3 1 0.5 0.5", slab = "prism 0 5 0 5 0 5 1 0.5 0.5"
    let npt = "npt temp 0.8 0.8 0.5 tri 0.1 0.1 2.0"
    let plain = try run(slabDeck(ranks: 4, balance: "", box: box, slab: slab, integrator: npt, secondRun: 100), ranks: 4)
    let balanced = try run(slabDeck(ranks: 4, balance: "fix 2 all balance 20 1.02 shift z 10 1.01", box: box, slab: slab,
                                    integrator: npt, extraThermo: "f_2", secondRun: 100), ranks: 4)
    let lz = thermoRows(plain).compactMap { $0["Lz"] }
    // The box oscillates, so its range (not the last minus the first length) shows the barostat at work.
    XCTAssertGreaterThan(lz.max()! - lz.min()!, 0.002 * lz.first!, "the barostat changes the box")
    XCTAssertLessThanOrEqual(try XCTUnwrap(thermoRows(balanced).last?["f_2"]), 1.1)
    assertSameThermo(plain, balanced)
  }

  func testRestartStartsFromUniformCutsAsLammps() throws {
    // LAMMPS keeps no cuts in restart files: a balanced run's restart is read back on uniform bricks.
    let dir = try makeScratchDirectory("balance-restart")
    let write = slabDeck(ranks: 4, balance: "balance 1.0 shift z 20 1.01", secondRun: 0) + "\nwrite_restart slab.restart\n"
    try write.write(to: dir.appendingPathComponent("in.write"), atomically: true, encoding: .utf8)
    let read = """
      units lj
      read_restart slab.restart
      pair_style lj/cut 2.5
      pair_coeff 1 1 1.0 1.0 2.5
      fix 1 all nve
      run 0
      """
    try read.write(to: dir.appendingPathComponent("in.read"), atomically: true, encoding: .utf8)
    let written = try runTessera(ranks: 4, ["run", "in.write", "--log", "none"], in: dir)
    XCTAssertEqual(written.status, 0, written.combined)
    XCTAssertLessThanOrEqual(summaryFactors(written.output).last!, 1.1)
    let continued = try runTessera(ranks: 4, ["run", "in.read", "--log", "none"], in: dir)
    XCTAssertEqual(continued.status, 0, continued.combined)
    XCTAssertGreaterThan(try XCTUnwrap(summaryFactors(continued.output).last), 1.5, continued.output)
  }

  func testBadBalanceSettingsAreRefused() throws {
    let dir = try makeScratchDirectory("balance-errors")
    let cases: [(String, String)] = [
      ("balance 1.0 z 0.5 0.4 0.6", "must ascend strictly"),
      ("balance 1.0 shift zz 10 1.1", "each at most once"),
      ("balance 1.0 shift q 10 1.1", "each at most once"),
      ("balance 1.0 shift z 10 0.9", "stopthresh must be at least 1.0"),
      ("balance 1.0 shift z 0 1.1", "Niter"),
      ("balance 1.0 rcb", "unsupported balance style 'rcb'"),
      ("balance 1.0 shift z 10 1.1 weight time 1.0", "unsupported balance keyword 'weight'"),
      ("fix 2 all balance 10 1.1 rcb", "unsupported fix balance style 'rcb'"),
      ("fix 2 all balance -1 1.1 shift z 10 1.1", "Nfreq must be non-negative"),
      ("thermo_style custom step f_9", "'f_9' names no defined fix"),
      ("thermo_style custom step f_1", "fix 1 (nve) has no such output"),
      ("fix 2 all balance 10 1.1 shift z 10 1.1\nthermo_style custom step f_2[4]", "fix 2 (balance) has no such output"),
    ]
    for (line, message) in cases {
      let deck = slabDeck(ranks: 4, balance: line, firstRun: 0, secondRun: 0)
      try deck.write(to: dir.appendingPathComponent("in.deck"), atomically: true, encoding: .utf8)
      let result = try runTessera(ranks: 4, ["run", "in.deck", "--log", "none"], in: dir)
      XCTAssertNotEqual(result.status, 0, line)
      XCTAssertTrue(result.combined.contains(message), "\(line): \(result.combined)")
      XCTAssertTrue(result.combined.contains("in.deck:"), "\(line): the message names the deck and line")
    }
  }
}
