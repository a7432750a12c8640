import Foundation
import TesseraTestSupport
import XCTest

/// The communication volume the run summary reports equals what the ghost shell implies.
final class CommunicationVolumeTests: XCTestCase {
  /// A perfect fcc crystal at rest never rebuilds, so every step moves the same ghost shell: positions
  /// forward and forces back across the x faces of each brick (the grid is cut along x only; y and z
  /// images are local copies, not messages).
  let deck = """
    units lj
    processors * 1 1
    atom_style atomic
    lattice fcc 0.8442
    region box block 0 8 0 8 0 8
    create_box 1 box
    create_atoms 1 box
    mass 1 1.0
    pair_style lj/cut 2.5
    pair_coeff 1 1 1.0 1.0 2.5
    neighbor 0.3 bin
    neigh_modify every 1 delay 0 check yes
    fix 1 all nve
    thermo 5
    run 10
    """

  /// Atoms of the lattice that a brick receives across its two x faces: those of the brick above
  /// within the ghost cutoff of its top face's image below, and of the brick below near its top.
  func ghostsAcrossXFaces(ranks: Int) -> Int {
    let cells = 8, cutoff = 2.5 + 0.3
    let length = Double(cells) * pow(4 / 0.8442, 1.0 / 3)
    let reach = cutoff / length, width = 1 / Double(ranks)
    let basis: [Double] = [0, 0.5, 0.5, 0]  // x of the four fcc basis atoms, in cells
    var count = 0
    for i in 0..<cells {
      for b in basis {
        let lambda = (Double(i) + b) / Double(cells)
        let brick = Int(lambda / width)
        // Seen from brick 0: brick 1 sends down what lies below its lower face + reach, the last brick
        // sends up what lies above its upper face − reach (through the periodic boundary).
        if brick == 1 % ranks && lambda < width * Double(1 % ranks) + reach { count += cells * cells }
        if brick == ranks - 1 && lambda >= 1 - reach { count += cells * cells }
      }
    }
    return count
  }

  func statistic(_ name: String, in output: String) -> [Double]? {
    guard let line = output.split(separator: "\n").first(where: { $0.hasPrefix(name + ":") }) else { return nil }
    return line.split(separator: " ").compactMap { Double($0) }
  }

  func testReportedVolumeMatchesTheGhostShell() throws {
    let dir = try makeScratchDirectory("comm-volume")
    try deck.write(to: dir.appendingPathComponent("in.deck"), atomically: true, encoding: .utf8)
    for ranks in [1, 2, 4] {
      let result = try runTessera(ranks: ranks, ["run", "in.deck", "--log", "none"], in: dir)
      XCTAssertEqual(result.status, 0, result.combined)
      XCTAssertTrue(result.output.contains("Neighbor list builds = 0"), result.output)
      let bytes = try XCTUnwrap(statistic("Comm bytes/step", in: result.output), result.output)
      let messages = try XCTUnwrap(statistic("Comm messages/step", in: result.output), result.output)
      // Every brick is alike: average, max and min agree.
      let ghosts = ranks == 1 ? 0 : ghostsAcrossXFaces(ranks: ranks)
      let expectedBytes = Double(2 * 3 * 8 * ghosts)  // positions out, forces back: 3 doubles each
      XCTAssertEqual(bytes, [expectedBytes, expectedBytes, expectedBytes], "\(ranks) ranks")
      let expectedMessages = ranks == 1 ? 0.0 : 4  // one swap each way along x, forward and reverse
      XCTAssertEqual(messages, [expectedMessages, expectedMessages, expectedMessages], "\(ranks) ranks")
    }
  }
}
