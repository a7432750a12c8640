import Foundation
import TesseraTestSupport
import XCTest

/// `create_atoms` numbers new atoms as LAMMPS does on one rank: consecutively after the largest id, in
/// lattice order. An fcc ball of type 1 and then the rest of the box as type 2 (`side out`), dumped
/// after `run 0`: every id must carry the same type and position as in Debian's `lmp` on one rank, on
/// 1 and 4 Tessera ranks alike, and the ids must be 1…N with no gaps.
final class CreateAtomsTests: XCTestCase {
  let lammps = "/usr/bin/lmp"
  let deck = """
    units metal
    atom_style atomic
    atom_modify map array
    lattice fcc 3.6
    region box block 0 5 0 4 0 3
    create_box 2 box
    region ball sphere 2.5 2.0 1.5 1.6 side in
    region rest sphere 2.5 2.0 1.5 1.6 side out
    create_atoms 1 region ball
    create_atoms 2 region rest
    mass * 63.5
    pair_style lj/cut 2.0
    pair_coeff * * 0.01 1.0
    dump 1 all custom 1 atoms.dump id type x y z
    dump_modify 1 sort id format float %.12g
    run 0
    """

  /// id → (type, x, y, z) from a one-frame custom dump.
  func atomsByID(_ dump: URL) throws -> [Int: [Double]] {
    let lines = try String(contentsOf: dump, encoding: .utf8).split(separator: "\n")
    guard let start = lines.firstIndex(where: { $0.hasPrefix("ITEM: ATOMS") }) else { return [:] }
    var atoms: [Int: [Double]] = [:]
    for line in lines[(start + 1)...] {
      let words = line.split(separator: " ")
      guard words.count == 5, let id = Int(words[0]) else { continue }
      atoms[id] = words.dropFirst().compactMap { Double($0) }
    }
    return atoms
  }

  func testNumberingMatchesLammpsOnAnyRankCount() throws {
    guard FileManager.default.isExecutableFile(atPath: lammps) else {
      return XCTFail("LAMMPS (Debian package lammps) is not installed; `make test` installs it")
    }
    let dir = try makeScratchDirectory("create-atoms")
    try deck.write(to: dir.appendingPathComponent("in.create"), atomically: true, encoding: .utf8)
    let reference = try runProcess(lammps, ["-in", "in.create", "-log", "none"], in: dir)
    XCTAssertEqual(reference.status, 0, reference.combined)
    let expected = try atomsByID(dir.appendingPathComponent("atoms.dump"))
    XCTAssertEqual(expected.count, 5 * 4 * 3 * 4, "LAMMPS fills the box")
    XCTAssertEqual(Set(expected.keys), Set(1...expected.count))
    XCTAssertEqual(Set(expected.values.map { $0[0] }), [1, 2], "both types created")
    for ranks in [1, 4] {
      try FileManager.default.removeItem(at: dir.appendingPathComponent("atoms.dump"))
      let run = try runTessera(ranks: ranks, ["run", "in.create", "--log", "none"], in: dir)
      XCTAssertEqual(run.status, 0, run.combined)
      let actual = try atomsByID(dir.appendingPathComponent("atoms.dump"))
      XCTAssertEqual(actual.count, expected.count, "\(ranks) ranks")
      for (id, want) in expected {
        guard let got = actual[id], got.count == 4 else { XCTFail("\(ranks) ranks: id \(id) missing"); continue }
        XCTAssertEqual(got[0], want[0], "\(ranks) ranks: type of id \(id)")
        for d in 1...3 { XCTAssertEqual(got[d], want[d], accuracy: 1e-9, "\(ranks) ranks: id \(id)") }
      }
    }
  }
}
