import Foundation
import TesseraTestSupport
import XCTest

/// Teacher and student in one run: `pair_style deepmd STUDENT.dp TEACHER.dp out_freq N out_file F`
/// with models of different descriptors and cut-offs — se_e3 (r_c 4 Å) driving with the DPA-3 teacher
/// (e_rcut 5 Å, 3 message-passing layers) and a DPA-1 model (5 Å) as further models, and the
/// reverse (DPA-3 driving), and DPA-2 the same ways (driving with another DPA-2, the student and the
/// DPA-3 teacher; a further model of the student and of DPA-3). The list and the ghosts reach the largest cut-off plus skin; each model
/// selects within its own. The deviation file must be what `tessera eval --devi` gives on the dumped
/// frames (each model evaluated alone with its periodic images), and the same on several ranks.
final class TeacherStudentTests: XCTestCase, CuAgDeckRunning {
  let student = inputPath("models/cuag_se_e3/cuag_se_e3.dp")
  let teacher = inputPath("models/cuag_dpa3/cuag_dpa3.dp")
  let dpa1 = inputPath("models/cuag_se_atten_v2_l0/cuag_se_atten_v2_l0.dp")
  let dpa2 = inputPath("models/cuag_dpa2/cuag_dpa2.dp")
  let otherDPA2 = inputPath("models/cuag_dpa2_incr/cuag_dpa2_incr.dp")

  func deck(models: [String]) -> String {
    """
    units metal
    atom_style atomic
    read_data data.cuag
    pair_style deepmd \(models.joined(separator: " ")) out_freq 5 out_file devi.out atomic
    pair_coeff * * Cu Ag
    velocity all create 600 4928459 dist gaussian
    neighbor 1.0 bin
    neigh_modify every 5 delay 0 check yes
    timestep 0.001
    fix 1 all nve
    dump 1 all extxyz 5 frames.xyz
    dump_modify 1 format float %.17g element Cu Ag
    thermo_style custom step temp pe ke etotal press
    thermo_modify format float %.16g
    thermo 5
    run 20
    """
  }

  /// Rows of numbers of a model deviation file (comment lines skipped).
  func rows(_ path: String) throws -> [[Double]] {
    try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n")
      .filter { !$0.hasPrefix("#") }
      .map { $0.split(separator: " ").map { Double($0)! } }
  }

  func assertRowsAgree(_ a: [[Double]], _ b: [[Double]], _ what: String, relative: Double) {
    XCTAssertGreaterThan(a.count, 0, what)
    XCTAssertEqual(a.count, b.count, what)
    for (r, s) in zip(a, b) {
      XCTAssertEqual(r.count, s.count, what)
      for (x, y) in zip(r, s) {
        XCTAssertLessThanOrEqual(abs(x - y), relative * abs(x) + 1e-12, "\(what), step \(r[0]): \(x) vs \(y)")
      }
    }
  }

  /// Runs `models` on 1 rank and on each of `ranks`: the 1-rank file against re-evaluating its frames,
  /// the others' files and thermo against the 1-rank run.
  func assertDeviationFile(models: [String], listCutoff: Double, ranks: [Int]) throws {
    let text = deck(models: models)
    var reference: (rows: [[Double]], thermo: [[String: Double]])?
    for n in [1] + ranks {
      let dir = try makeScratchDirectory("teacher-student-\(n)")
      try dataFile(cells: 2).write(to: dir.appendingPathComponent("data.cuag"), atomically: true, encoding: .utf8)
      try text.write(to: dir.appendingPathComponent("in.cuag"), atomically: true, encoding: .utf8)
      let result = try runTessera(ranks: n, ["run", "in.cuag", "--log", "none"], in: dir)
      XCTAssertEqual(result.status, 0, result.combined)
      XCTAssertTrue(result.output.contains("Neighbor list info: cutoff \(listCutoff) + skin 1.0"),
                    "the list reaches the largest model cut-off: \(result.output)")
      let written = try rows(dir.appendingPathComponent("devi.out").path)
      XCTAssertEqual(written.map { $0[0] }, [0, 5, 10, 15, 20])
      XCTAssertEqual(written.first?.count, 7 + 32, "atomic appends one column per atom")
      let thermo = thermoRows(result.output)
      XCTAssertEqual(thermo.count, 5, result.output)
      guard let reference else {
        reference = (written, thermo)
        // The deviations are not round-off: the models disagree.
        XCTAssertGreaterThan(written.map { $0[4] }.min()!, 1e-3, "max force deviation \(written)")
        let out = dir.appendingPathComponent("re.out").path
        let eval = try runProcess(tesseraBinary, ["eval"] + models.flatMap { ["--model", $0] }
          + [dir.appendingPathComponent("frames.xyz").path, "--devi", out, "--atomic", "--type-map", "Cu,Ag"])
        XCTAssertEqual(eval.status, 0, eval.combined)
        var again = try rows(out)
        for k in again.indices {
          again[k].remove(at: 7)  // eval adds devi_e as column 7
          again[k][0] = written[k][0]
        }
        assertRowsAgree(written, again, "run against eval of its frames", relative: 2e-6)
        continue
      }
      assertRowsAgree(reference.rows, written, "\(n) ranks against 1", relative: 2e-6)
      for (a, b) in zip(reference.thermo, thermo) {
        for (key, value) in a {
          XCTAssertLessThanOrEqual(abs((b[key] ?? .nan) - value), 1e-10 * abs(value) + 1e-12,
                                   "\(n) ranks, step \(a["Step"]!), \(key)")
        }
      }
    }
  }

  /// The se_e3 student (r_c 4) drives; the DPA-3 teacher and a DPA-1 model (5 Å) give the deviation.
  func testStudentDrivingWithDPA3Teacher() throws {
    try assertDeviationFile(models: [student, teacher, dpa1], listCutoff: 5.0, ranks: [2, 3])
  }

  /// A DPA-3 or DPA-2 teacher cannot run in float32, nor join models of another type map (Cu–Ag–Au against Cu–Ag).
  func testMixedEnsemblesRefuseWhatTheyCannotEvaluate() throws {
    let ternary = inputPath("models/cuagau_dpa3/cuagau_dpa3.dp")
    for (models, extra, message) in [
      ([student, teacher], " devi_precision float32", "is a DPA-3 model, evaluated in float64 only"),
      ([student, dpa2], " devi_precision float32", "is a DPA-2 model, evaluated in float64 only"),
      ([student, ternary], "", "has type map Cu Ag Au but \(student) has Cu Ag; the models of an ensemble need the same type map"),
      ([teacher, ternary], "", "has type map Cu Ag Au but \(teacher) has Cu Ag; the models of an ensemble need the same type map"),
    ] {
      let dir = try makeScratchDirectory("teacher-student-bad")
      try dataFile(cells: 1).write(to: dir.appendingPathComponent("data.cuag"), atomically: true, encoding: .utf8)
      let text = deck(models: models).replacingOccurrences(of: "devi.out atomic\n", with: "devi.out atomic\(extra)\n")
      try text.write(to: dir.appendingPathComponent("in.cuag"), atomically: true, encoding: .utf8)
      assertRunRefused(try runTessera(ranks: 1, ["run", "in.cuag", "--log", "none"], in: dir), saying: message, message)
    }
  }

  /// The DPA-3 model drives, the se_e3 student (a smaller cut-off) is the further model.
  func testDPA3DrivingWithStudent() throws {
    try assertDeviationFile(models: [teacher, student], listCutoff: 5.0, ranks: [4])
  }

  /// A DPA-2 model drives; another DPA-2 (three-body, res_incr), the se_e3 student (r_c 4) and the
  /// DPA-3 teacher are the further models, the two DPA-2 and the DPA-3 exchanging features per layer.
  func testDPA2DrivingWithDPA2StudentAndDPA3() throws {
    try assertDeviationFile(models: [dpa2, otherDPA2, student, teacher], listCutoff: 5.0, ranks: [4])
  }

  /// The DPA-3 model drives, the DPA-2 model is the further model: both exchange features per layer.
  func testDPA3DrivingWithDPA2() throws {
    try assertDeviationFile(models: [teacher, dpa2], listCutoff: 5.0, ranks: [4])
  }

  /// The se_e3 student drives; the DPA-2 model and a DPA-1 model (5 Å) give the deviation.
  func testStudentDrivingWithDPA2Teacher() throws {
    try assertDeviationFile(models: [student, dpa2, dpa1], listCutoff: 5.0, ranks: [4])
  }
}
