import Foundation
import TesseraTestSupport
import XCTest

/// The concurrent-learning clients themselves (installed by `make pyenv`, pinned): the exploration decks that
/// dpgen2's `make_lmp_input` (nvt, npt-iso, npt-aniso, npt-tri, nve; `atomic`, `relative`, `relative_v`) and
/// DP-GEN's `make_lammps_input` (npt; nvt with one merged, appended trajectory and `pair_coeff * * Cu`) write,
/// run unchanged with four models on 1 and 4 ranks as DP-GEN starts them (`-i input.lammps -v restart 0`); then
/// dpgen2's model-deviation and trajectory readers, dpdata's `lammps/dump` reader and dpgen2's trust-level
/// selector read the outputs (`Tests/Python/dpgen_clients.py`): the selected frames are the candidates that
/// `model_devi.out` implies, re-evaluating the dumped frames (`tessera eval --devi`) gives the same statistics
/// and the same selection, and 4 ranks agree with 1 to 1e-8. dpgen2's `RunLmp` operator runs a task with
/// `mpirun -np 4 tessera -var restart 0` as its command. dpgen2's deck with an electronic temperature (`fparam`)
/// given to these models, trained without one, is refused at its line, as DeePMD-kit's plugin refuses it.
final class DpgenClientTests: XCTestCase {
  var python: String {
    ProcessInfo.processInfo.environment["TESSERA_PYTHON"]
      ?? repositoryRoot.appendingPathComponent(".build/pyenv/bin/python").path
  }
  let script = repositoryRoot.appendingPathComponent("Tests/Python/dpgen_clients.py").path
  let models = ["models/cu_se_e2_a/cu_se_e2_a.pb", "models/cu_ensemble/cu_ens1.pb",
                "models/cu_ensemble/cu_ens2.pb", "models/cu_ensemble/cu_ens3.pb"].map(inputPath)

  func testClientDecksRunUnchangedAndReadBack() throws {
    guard FileManager.default.isExecutableFile(atPath: python) else {
      return XCTFail("\(python) is missing: `make pyenv` installs dpgen2, dpgen and dpdata for these tests")
    }
    var roots: [Int: URL] = [:]
    for ranks in [1, 4] {
      let root = try makeScratchDirectory("dpgen-clients-\(ranks)")
      let written = try runProcess(python, [script, "decks", root.path] + models)
      XCTAssertEqual(written.status, 0, written.combined)
      let cases = written.output.split(separator: "\n").filter { $0.hasPrefix("case ") }.map { String($0.dropFirst(5)) }
      XCTAssertEqual(cases.count, 7, written.output)
      for name in cases {
        let dir = root.appendingPathComponent(name)
        let result = try runTessera(ranks: ranks, ["-i", "input.lammps", "-v", "restart", "0"], in: dir)
        XCTAssertEqual(result.status, 0, "\(name) on \(ranks) ranks: \(result.combined)")
      }
      // DP-GEN's restart: the first leg stops at step 10, the second (`-v restart 1`) reads dpgen.restart.10.
      let legs = try XCTUnwrap(written.output.split(separator: "\n").first { $0.hasPrefix("legs ") }).dropFirst(5)
      let dir = root.appendingPathComponent(String(legs))
      for leg in 0..<2 {
        let result = try runTessera(ranks: ranks, ["-i", "input.leg\(leg).lammps", "-v", "restart", "\(leg)"], in: dir)
        XCTAssertEqual(result.status, 0, "\(legs) leg \(leg) on \(ranks) ranks: \(result.combined)")
        try result.output.write(to: dir.appendingPathComponent("leg\(leg).out"), atomically: true, encoding: .utf8)
      }
      // The electronic temperature (`fparam ${ELE_TEMP}`, line 18) for models without numb_fparam: refused at its line.
      let refused = try XCTUnwrap(written.output.split(separator: "\n").first { $0.hasPrefix("refused ") }).dropFirst(8)
      let fparam = try runTessera(ranks: ranks, ["-i", "input.lammps", "-v", "restart", "0"],
                                  in: root.appendingPathComponent(String(refused)))
      XCTAssertNotEqual(fparam.status, 0, fparam.combined)
      XCTAssertTrue(fparam.combined.contains("input.lammps:18: pair_style: ")
                      && fparam.combined.contains("takes no frame parameters (numb_fparam 0), but fparam gives 1"),
                    fparam.combined)
      roots[ranks] = root
    }
    let check = try runProcess(python, [script, "check", tesseraBinary, roots[1]!.path, roots[4]!.path] + models)
    XCTAssertEqual(check.status, 0, check.combined)
    XCTAssertTrue(check.output.hasSuffix("OK\n"), check.combined)
  }

  /// dpgen2's deck with an electronic temperature (`ele_temp_f`: `fparam ${ELE_TEMP}` on the pair_style line) with two
  /// models trained with numb_fparam 1 (`inputs/models/cuag_fparam*`): runs unchanged, with the value in the log, and
  /// 4 ranks write the deviation file of 1 rank to 1e-8.
  func testElectronicTemperatureDeckRuns() throws {
    guard FileManager.default.isExecutableFile(atPath: python) else {
      return XCTFail("\(python) is missing: `make pyenv` installs dpgen2, dpgen and dpdata for these tests")
    }
    let fparamModels = ["models/cuag_fparam/cuag_fparam.pb", "models/cuag_fparam_b/cuag_fparam_b.pb"].map(inputPath)
    var files: [[[Double]]] = []
    for ranks in [1, 4] {
      let root = try makeScratchDirectory("dpgen-fparam-\(ranks)")
      let written = try runProcess(python, [script, "fparam", root.path] + fparamModels)
      XCTAssertEqual(written.status, 0, written.combined)
      let name = try XCTUnwrap(written.output.split(separator: "\n").first { $0.hasPrefix("fparam ") }).dropFirst(7)
      let dir = root.appendingPathComponent(String(name))
      let result = try runTessera(ranks: ranks, ["-i", "input.lammps", "-v", "restart", "0"], in: dir)
      XCTAssertEqual(result.status, 0, result.combined)
      XCTAssertTrue(result.output.contains("Deep Potential parameters: fparam 0.5"), result.output)
      let text = try String(contentsOf: dir.appendingPathComponent("model_devi.out"), encoding: .utf8)
      files.append(text.split(separator: "\n").filter { !$0.hasPrefix("#") }.map { $0.split(separator: " ").compactMap { Double($0) } })
    }
    XCTAssertEqual(files[0].count, 5, "rows at steps 0, 5, …, 20")
    XCTAssertGreaterThan(files[0].map { $0[4] }.max() ?? 0, 1e-3, "the two models disagree (max_devi_f)")
    XCTAssertEqual(files[0].count, files[1].count)
    for (a, b) in zip(files[0], files[1]) {
      for (x, y) in zip(a, b) { XCTAssertEqual(x, y, accuracy: 1e-8 * abs(x) + 1e-12, "step \(a[0])") }
    }
  }

  /// dpgen2's RunLmp as its unit test calls it (task/path with conf.lmp and in.lammps, models/path/model_K.pb),
  /// without the mocked `run_command`: the command is Tessera under mpirun.
  func testRunLmpOperatorWithTesseraAsCommand() throws {
    guard FileManager.default.isExecutableFile(atPath: python) else {
      return XCTFail("\(python) is missing: `make pyenv` installs dpgen2, dpgen and dpdata for these tests")
    }
    let root = try makeScratchDirectory("dpgen-runlmp")
    let command = "/usr/bin/mpirun --oversubscribe -np 4 \(tesseraBinary) -var restart 0"
    let result = try runProcess(python, [script, "runlmp", command, root.path, tesseraBinary] + models)
    XCTAssertEqual(result.status, 0, result.combined)
    XCTAssertTrue(result.output.hasSuffix("OK\n"), result.combined)
  }
}
