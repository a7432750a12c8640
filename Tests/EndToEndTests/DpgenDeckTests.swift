import Foundation
import TesseraTestSupport
import XCTest

/// The exploration deck dpgen2's `make_lmp_input` writes (npt, four models, `box tilt large`, the
/// `if "${restart} …"` lines, `change_box all triclinic`, `run N upto`, `restart N FILE` and
/// `read_restart FILE.*`), run unchanged as DP-GEN starts it: `tessera -i input.lammps -v restart 0`,
/// then a second leg `-v restart 1` from the newest restart file. The continued leg must equal the
/// uninterrupted run, byte for byte, in its thermo rows, `model_devi.out` and trajectory frames, on
/// 1 and on 4 ranks; and 4 ranks must agree with 1 to 1e-8.
final class DpgenDeckTests: XCTestCase {
  let models = ["graph.000.pb": "models/cu_se_e2_a/cu_se_e2_a.pb", "graph.001.dp": "models/cu_ensemble/cu_ens1.dp",
                "graph.002.dp": "models/cu_ensemble/cu_ens2.dp", "graph.003.dp": "models/cu_ensemble/cu_ens3.dp"]

  /// As dpgen2 writes it for `ensemble: npt`, with NSTEPS from the command line so that one deck
  /// serves both legs and the uninterrupted run (dpgen2 writes the number in).
  let deck = """
    variable        NSTEPS          equal ${steps}
    variable        THERMO_FREQ     equal 2
    variable        DUMP_FREQ       equal 2
    variable        TEMP            equal 300.000000
    variable        PRES            equal 1.000000
    variable        TAU_T           equal 0.100000
    variable        TAU_P           equal 0.500000

    units           metal
    boundary        p p p
    atom_style      atomic

    neighbor        1.0 bin

    box          tilt large
    if "${restart} > 0" then "read_restart dpgen.restart.*" else "read_data conf.lmp"
    change_box   all triclinic
    mass            1 63.546000
    pair_style      deepmd graph.000.pb graph.001.dp graph.002.dp graph.003.dp out_freq ${THERMO_FREQ} out_file model_devi.out 
    pair_coeff      * *

    thermo_style    custom step temp pe ke etotal press vol lx ly lz xy xz yz
    thermo          ${THERMO_FREQ}
    dump            1 all custom ${DUMP_FREQ} traj/*.lammpstrj id type x y z fx fy fz
    restart         4 dpgen.restart

    if "${restart} == 0" then "velocity        all create ${TEMP} 826513"

    fix             1 all npt temp ${TEMP} ${TEMP} ${TAU_T} iso ${PRES} ${PRES} ${TAU_P}

    timestep        0.002000
    run             ${NSTEPS} upto
    """

  /// 32 copper atoms (2×2×2 fcc cells) off their sites, as dpdata writes `conf.lmp` (with its tilt line).
  func conf() -> String {
    let a = 3.615, basis: [SIMD3<Double>] = [[0, 0, 0], [0.5, 0.5, 0], [0.5, 0, 0.5], [0, 0.5, 0.5]]
    var random = SeededRandom(seed: 17)
    var lines: [String] = []
    for x in 0..<2 { for y in 0..<2 { for z in 0..<2 { for b in basis {
      let shift = SIMD3<Double>(random.uniform(), random.uniform(), random.uniform()) * 0.2 - 0.1
      let r = (SIMD3<Double>(Double(x), Double(y), Double(z)) + b) * a + shift
      lines.append("\(lines.count + 1) 1 \(r.x) \(r.y) \(r.z)")
    } } } }
    return "\n32 atoms\n1 atom types\n   0.0 \(2 * a) xlo xhi\n   0.0 \(2 * a) ylo yhi\n   0.0 \(2 * a) zlo zhi\n"
      + "   0.0 0.0 0.0 xy xz yz\n\nAtoms # atomic\n\n" + lines.joined(separator: "\n") + "\n"
  }

  func taskDirectory(_ name: String) throws -> URL {
    let dir = try makeScratchDirectory(name)
    try conf().write(to: dir.appendingPathComponent("conf.lmp"), atomically: true, encoding: .utf8)
    try deck.write(to: dir.appendingPathComponent("input.lammps"), atomically: true, encoding: .utf8)
    try FileManager.default.createDirectory(at: dir.appendingPathComponent("traj"), withIntermediateDirectories: true)
    for (link, model) in models {
      try FileManager.default.createSymbolicLink(atPath: dir.appendingPathComponent(link).path, withDestinationPath: inputPath(model))
    }
    return dir
  }

  /// `-i input.lammps -v restart R -v steps N`, as DP-GEN's command line; the log goes to log.lammps.
  func leg(restart: Int, steps: Int, ranks: Int, in dir: URL) throws -> [String] {
    let result = try runTessera(ranks: ranks, ["-i", "input.lammps", "-v", "restart", "\(restart)", "-v", "steps", "\(steps)"], in: dir)
    XCTAssertEqual(result.status, 0, result.combined)
    XCTAssertTrue(result.output.contains("WARNING: The 'box' command has been removed and will be ignored"), result.output)
    let log = try String(contentsOf: dir.appendingPathComponent("log.lammps"), encoding: .utf8)
    XCTAssertTrue(log.contains("Loop time of"), "log.lammps: \(log)")
    return result.output.split(separator: "\n").map(String.init)
  }

  /// The printed thermo rows (as text) from step `from` on.
  func thermoLines(_ lines: [String], from: Int) -> [String] {
    lines.filter { line in
      let words = line.split(separator: " ")
      return words.count == 13 && Int(words[0]).map { $0 >= from } == true
    }
  }

  func deviationLines(_ dir: URL, from: Int) throws -> [String] {
    try String(contentsOf: dir.appendingPathComponent("model_devi.out"), encoding: .utf8).split(separator: "\n")
      .filter { !$0.hasPrefix("#") && Int($0.split(separator: " ")[0])! >= from }.map(String.init)
  }

  func testTwoLegsAsDpgenStartsThem() throws {
    var wholeRows: [Int: [[String: Double]]] = [:]
    for ranks in [1, 4] {
      let legs = try taskDirectory("dpgen-legs-\(ranks)")
      _ = try leg(restart: 0, steps: 12, ranks: ranks, in: legs)
      for step in [4, 8, 12] {
        XCTAssertTrue(FileManager.default.fileExists(atPath: legs.appendingPathComponent("dpgen.restart.\(step)").path))
      }
      // The newest file is the largest step (12), not the last name in text order (8).
      let second = try leg(restart: 1, steps: 16, ranks: ranks, in: legs)
      XCTAssertTrue(second.contains { $0.hasPrefix("  32 atoms at step 12 read from dpgen.restart.12 ") }, second.joined(separator: "\n"))

      let whole = try taskDirectory("dpgen-whole-\(ranks)")
      let uninterrupted = try leg(restart: 0, steps: 16, ranks: ranks, in: whole)
      let expected = thermoLines(uninterrupted, from: 12), continued = thermoLines(second, from: 12)
      XCTAssertEqual(expected.count, 3, uninterrupted.joined(separator: "\n"))
      XCTAssertEqual(continued, expected, "\(ranks) ranks: thermo of the continued leg")
      let deviations = try deviationLines(whole, from: 12)
      XCTAssertEqual(deviations.count, 3)
      XCTAssertEqual(try deviationLines(legs, from: 12), deviations, "\(ranks) ranks: model_devi.out")
      for step in [14, 16] {
        let name = "traj/\(step).lammpstrj"
        XCTAssertEqual(try Data(contentsOf: legs.appendingPathComponent(name)), try Data(contentsOf: whole.appendingPathComponent(name)),
                       "\(ranks) ranks: \(name)")
      }
      // Restart messages interrupt the table, so the rows are read by their shape.
      let header = try XCTUnwrap(uninterrupted.first { $0.hasPrefix("Step ") }).split(separator: " ").map(String.init)
      wholeRows[ranks] = thermoLines(uninterrupted, from: 0).map { line in
        Dictionary(uniqueKeysWithValues: zip(header, line.split(separator: " ").map { Double($0)! }))
      }
    }
    XCTAssertEqual(wholeRows[1]?.count, 9)
    assertThermoTablesAgree(wholeRows[1] ?? [], wholeRows[4] ?? [], tolerance: 1e-8, "1 vs 4 ranks")
  }
}
