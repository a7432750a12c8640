import Foundation
import TesseraTestSupport
import XCTest

/// Model deviation (issue 7): `tessera eval --devi` against DeePMD-kit's `calc_model_devi` (the
/// function behind `dp model-devi`) on the committed frames, `pair_style deepmd` ensembles against
/// re-evaluating their dumped frames, on 1, 2 and 4 ranks, and refused decks.
final class ModelDeviationTests: XCTestCase {
  let models = ["models/cu_se_e2_a/cu_se_e2_a.dp", "models/cu_ensemble/cu_ens1.dp",
                "models/cu_ensemble/cu_ens2.dp", "models/cu_ensemble/cu_ens3.dp"].map(inputPath)
  let frames = inputPath("models/cu_ensemble/frames.xyz")

  /// Rows of numbers of a model deviation file (comment lines skipped).
  func rows(_ path: String) throws -> [[Double]] {
    try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n")
      .filter { !$0.hasPrefix("#") }
      .map { $0.split(separator: " ").map { Double($0)! } }
  }

  func eval(_ extra: [String], in dir: URL) throws -> [[Double]] {
    let out = dir.appendingPathComponent("devi.out").path
    let result = try runProcess(tesseraBinary, ["eval"] + models.flatMap { ["--model", $0] }
      + [frames, "--devi", out, "--devi-digits", "17"] + extra)
    XCTAssertEqual(result.status, 0, result.combined)
    return try rows(out)
  }

  func testEvalMatchesDeePMDKit() throws {
    let dir = try makeScratchDirectory("devi-eval")
    for (name, extra) in [("plain", []), ("atomic", ["--atomic"]),
                          ("relative", ["--relative", "1.0", "--relative-v", "1.0"])] {
      let expected = try rows(inputPath("models/cu_ensemble/model_devi_\(name)_full.txt"))
      let mine = try eval(extra, in: dir)
      XCTAssertGreaterThan(expected.count, 0, name)
      XCTAssertEqual(mine.count, expected.count, name)
      for (a, b) in zip(expected, mine) {
        XCTAssertEqual(a.count, b.count, name)
        for (x, y) in zip(a, b) {
          XCTAssertLessThanOrEqual(abs(x - y), 1e-10 * abs(x), "\(name) frame \(a[0]): \(x) vs \(y)")
        }
      }
    }
  }

  /// The default layout is `dp model-devi`'s: the same header and the same printed rows.
  func testEvalLayoutIsDpModelDevi() throws {
    let dir = try makeScratchDirectory("devi-layout")
    let out = dir.appendingPathComponent("devi.out").path
    let result = try runProcess(tesseraBinary, ["eval"] + models.flatMap { ["--model", $0] } + [frames, "--devi", out])
    XCTAssertEqual(result.status, 0, result.combined)
    let mine = try String(contentsOfFile: out, encoding: .utf8).split(separator: "\n")
    let dp = try String(contentsOfFile: inputPath("models/cu_ensemble/model_devi_plain_32.out"), encoding: .utf8)
      .split(separator: "\n")
    XCTAssertEqual(mine[1], dp[1])  // the column header; line 0 names the input
    // dp model-devi takes one system per atom count: the six 32-atom frames, then the 108-atom one.
    var dpRows = try rows(inputPath("models/cu_ensemble/model_devi_plain_32.out"))
    for var row in try rows(inputPath("models/cu_ensemble/model_devi_plain_108.out")) {
      row[0] = Double(dpRows.count)
      dpRows.append(row)
    }
    let myRows = try rows(out)
    XCTAssertEqual(dpRows.count, myRows.count)
    XCTAssertGreaterThan(dpRows.count, 0)
    for (a, b) in zip(dpRows, myRows) {
      XCTAssertEqual(a.count, b.count, "frame \(a[0])")
      for (x, y) in zip(a, b) { XCTAssertLessThanOrEqual(abs(x - y), 1e-6 * abs(x), "\(x) vs \(y)") }
    }
  }

  func runDeck(ranks: Int, in dir: URL, extraArguments: [String] = []) throws -> ProcessResult {
    try runTessera(ranks: ranks, ["run", inputPath("cu_ensemble/in.devi"), "--log", "none",
                                  "-var", "models", inputPath("models"), "-var", "steps", "20"] + extraArguments, in: dir)
  }

  /// Rows agree where they are above the noise of a vanishing quantity (a perfect lattice's forces).
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

  func testRunRowsMatchReevaluatedFramesOnAnyRankCount() throws {
    var reference: [[Double]]?
    for ranks in [1, 2, 4] {
      let dir = try makeScratchDirectory("devi-run-\(ranks)")
      let result = try runDeck(ranks: ranks, in: dir)
      XCTAssertEqual(result.status, 0, result.combined)
      let written = try rows(dir.appendingPathComponent("model_devi.out").path)
      XCTAssertEqual(written.map { $0[0] }, [0, 5, 10, 15, 20])
      XCTAssertTrue(result.output.contains("Model deviation: 5 evaluations; per evaluation (s, mean over ranks): driving model "),
                    "the run summary splits the deviation steps' cost: \(result.output)")
      XCTAssertEqual(written[0].count, 7 + 108, "atomic appends one column per atom")
      let header = try String(contentsOfFile: dir.appendingPathComponent("model_devi.out").path, encoding: .utf8)
        .split(separator: "\n")[0]
      XCTAssertEqual(String(header), "#       step" + ["max_devi_v", "min_devi_v", "avg_devi_v", "max_devi_f", "min_devi_f",
                                                      "avg_devi_f", "atm_devi_f(N)"].map { String(repeating: " ", count: 19 - $0.count) + $0 }.joined())
      if let reference {
        assertRowsAgree(reference, written, "\(ranks) ranks against 1", relative: 2e-6)
      } else {
        reference = written
        // Re-evaluating the dumped frames gives the same statistics (eval adds devi_e as column 7).
        let out = dir.appendingPathComponent("re.out").path
        let eval = try runProcess(tesseraBinary, ["eval"] + models.flatMap { ["--model", $0] }
          + [dir.appendingPathComponent("frames.xyz").path, "--devi", out, "--atomic"])
        XCTAssertEqual(eval.status, 0, eval.combined)
        var again = try rows(out)
        for k in again.indices {
          again[k].remove(at: 7)
          again[k][0] = written[k][0]
        }
        assertRowsAgree(written, again, "run against eval of its frames", relative: 2e-6)
      }
    }
  }

  /// With `compress` every model of the ensemble is tabulated (not only the driving one) and with
  /// `threads` evaluated by threads, as the driving model is: the rows are the plain run's to the
  /// tables' accuracy.
  func testCompressedThreadedEnsembleMatchesPlainRun() throws {
    let plainDir = try makeScratchDirectory("devi-plain")
    let plain = try runDeck(ranks: 1, in: plainDir)
    XCTAssertEqual(plain.status, 0, plain.combined)
    let dir = try makeScratchDirectory("devi-compressed")
    let deck = try String(contentsOfFile: inputPath("cu_ensemble/in.devi"), encoding: .utf8)
      .replacingOccurrences(of: "out_freq 5", with: "out_freq 5 compress min_nbor_dist 2.0129867224877644 threads 2")
    let path = dir.appendingPathComponent("in.compressed")
    try deck.write(to: path, atomically: true, encoding: .utf8)
    let result = try runTessera(ranks: 1, ["run", path.path, "--log", "none", "-var", "models", inputPath("models"),
                                           "-var", "steps", "20"], in: dir)
    XCTAssertEqual(result.status, 0, result.combined)
    for name in ["cu_ens1", "cu_ens2", "cu_ens3"] {
      XCTAssertTrue(result.output.contains("deviation model \(inputPath("models"))/cu_ensemble/\(name).dp tables built at load"),
                    "\(name) is tabulated: \(result.output)")
    }
    assertRowsAgree(try rows(plainDir.appendingPathComponent("model_devi.out").path),
                    try rows(dir.appendingPathComponent("model_devi.out").path), "compressed, 2 threads", relative: 1e-6)
  }

  /// `devi_precision float32` evaluates the further models in float32 while the driving model stays
  /// float64: the trajectory is the float64 run's to the bit (the same positions step by step), the
  /// statistics within 1e-5 relative (the issue's bound; float32 networks err ~1e-7 relative on the
  /// forces, and the deviations are differences of forces), and the file says so above the header.
  func testSinglePrecisionDeviationModelsKeepTheStatistics() throws {
    let plainDir = try makeScratchDirectory("devi-f64")
    let plain = try runDeck(ranks: 1, in: plainDir)
    XCTAssertEqual(plain.status, 0, plain.combined)
    let dir = try makeScratchDirectory("devi-f32")
    let deck = try String(contentsOfFile: inputPath("cu_ensemble/in.devi"), encoding: .utf8)
      .replacingOccurrences(of: "out_freq 5", with: "out_freq 5 devi_precision float32")
    XCTAssertTrue(deck.contains("devi_precision float32"))
    let path = dir.appendingPathComponent("in.f32")
    try deck.write(to: path, atomically: true, encoding: .utf8)
    let result = try runTessera(ranks: 1, ["run", path.path, "--log", "none", "-var", "models", inputPath("models"),
                                           "-var", "steps", "20"], in: dir)
    XCTAssertEqual(result.status, 0, result.combined)
    let file = dir.appendingPathComponent("model_devi.out").path
    let lines = try String(contentsOfFile: file, encoding: .utf8).split(separator: "\n")
    XCTAssertEqual(lines.first.map(String.init),
                   "# devi_precision float32: the further models in float32, the driving model in float64")
    let expected = try rows(plainDir.appendingPathComponent("model_devi.out").path)
    let single = try rows(file)
    XCTAssertEqual(single.map { $0[0] }, [0, 5, 10, 15, 20])
    // Away from vanishing values: step 0 is a perfect lattice whose forces are round-off.
    assertRowsAgree(Array(expected.dropFirst()), Array(single.dropFirst()), "float32 deviation models", relative: 1e-5)
    // The differences are float32's, not zero: the further models did run in single precision.
    let largest = zip(expected, single).flatMap { zip($0.dropFirst(), $1.dropFirst()).map { abs($0 - $1) / max(abs($0), 1e-300) } }.max()!
    XCTAssertGreaterThan(largest, 1e-9, "the float32 ensemble's rows differ from float64's")
    XCTAssertEqual(thermoRows(plain.output), thermoRows(result.output), "the driving model alone moves the atoms")
  }

  /// Thermo rows of a run's output (the lines of numbers under the `Step` header).
  private func thermoRows(_ output: String) -> [String] {
    output.split(separator: "\n").map(String.init).filter {
      let words = $0.split(separator: " ")
      return words.count > 3 && words.allSatisfy { Double($0) != nil }
    }
  }

  /// `tessera check` validates the ensemble and writes no model_devi.out.
  func testCheckWritesNoDeviationFile() throws {
    let dir = try makeScratchDirectory("devi-check")
    let result = try runProcess(tesseraBinary, ["check", inputPath("cu_ensemble/in.devi"), "-var", "models", inputPath("models")],
                                in: dir)
    XCTAssertEqual(result.status, 0, result.combined)
    XCTAssertFalse(FileManager.default.fileExists(atPath: dir.appendingPathComponent("model_devi.out").path))
  }

  func testBadDecksAreRefused() throws {
    let dir = try makeScratchDirectory("devi-bad")
    let deck = try String(contentsOfFile: inputPath("cu_ensemble/in.devi"), encoding: .utf8)
    let other = inputPath("models/cuau_se_e2_a/cuau_se_e2_a.dp")
    for (name, from, to, message) in [
      ("typemap", "cu_ensemble/cu_ens3.dp", "\(other)", "the models of an ensemble need the same type map"),
      ("outfreq", "out_freq 5 out_file ${out} atomic", "out_file ${out} atomic out_freq", "missing step count after out_freq"),
      ("negative", "out_freq 5", "out_freq -5", "expected step count >= 0 after out_freq, got '-5'"),
      ("fraction", "out_freq 5", "out_freq 2.5", "expected step count >= 0 after out_freq, got '2.5'"),
      ("relative", "${out} atomic", "${out} relative", "missing level ε (eV/Å or eV) after relative"),
      ("relative_v", "${out} atomic", "${out} relative_v x", "expected level ε (eV/Å or eV) >= 0 after relative_v, got 'x'"),
      ("devi_precision", "${out} atomic", "${out} devi_precision float16", "float16"),
    ] {
      var text = deck.replacingOccurrences(of: from, with: to)
      if name == "typemap" { text = text.replacingOccurrences(of: "${models}/\(other)", with: other) }
      let path = dir.appendingPathComponent("in.\(name)")
      try text.write(to: path, atomically: true, encoding: .utf8)
      let result = try runTessera(ranks: 1, ["run", path.path, "--log", "none", "-var", "models", inputPath("models")], in: dir)
      assertRunRefused(result, saying: message, name)
      XCTAssertTrue(result.combined.contains("in.\(name):"), "\(name) names the deck: \(result.combined)")
    }
  }
}
