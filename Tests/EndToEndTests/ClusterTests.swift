import Foundation
import TesseraTestSupport
import XCTest

/// The cluster recipes in `cluster/`: a real multi-host MPI run (network namespaces as hosts,
/// ranks over TCP) and the Slurm templates.
final class ClusterTests: XCTestCase {
  /// Two namespace hosts, one rank each, then two hosts with two ranks each: the LJ melt and the
  /// copper Deep Potential deck give the single-host thermo to 1e-10 relative (the script compares).
  func testRunAcrossNamespaceHostsEqualsOneHost() throws {
    let script = repositoryRoot.appendingPathComponent("cluster/netns/run.sh").path
    for (hosts, perHost) in [(2, 1), (2, 2)] {
      let result = try runProcess(script, ["\(hosts)", "\(perHost)"],
                                  environment: ["TESSERA_BINARY": tesseraBinary])
      if result.status == 77 {
        throw XCTSkip("the kernel refuses network namespaces here: \(result.error)")
      }
      XCTAssertEqual(result.status, 0, result.combined)
      let ranks = hosts * perHost
      XCTAssertTrue(result.output.contains("ranks placed: h1×\(perHost) h2×\(perHost)"), result.combined)
      for deck in ["lj", "copper"] {
        XCTAssertTrue(result.output.contains("ok: \(deck) on \(ranks) ranks across \(hosts) namespace hosts"),
                      result.combined)
      }
    }
  }

  /// The Slurm templates parse as bash and keep the pieces the restart handover depends on.
  func testSlurmTemplatesParseAndHandOverOnUSR1() throws {
    for name in ["tessera-srun.sbatch", "tessera-mpirun.sbatch"] {
      let path = repositoryRoot.appendingPathComponent("cluster/slurm/\(name)").path
      let check = try runProcess("/bin/bash", ["-n", path])
      XCTAssertEqual(check.status, 0, "\(name): \(check.combined)")
      let text = try String(contentsOfFile: path, encoding: .utf8)
      for piece in ["#SBATCH --signal=B:USR1@300", "trap 'kill -USR1 $pid", "sbatch --dependency=afterany"] {
        XCTAssertTrue(text.contains(piece), "\(name) lacks \(piece)")
      }
    }
  }
}
