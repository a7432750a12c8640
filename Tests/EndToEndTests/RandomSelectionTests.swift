import Foundation
import TesseraTestSupport
import XCTest

/// `delete_atoms overlap` and `set type/ratio|type/subset`, whose choice of atoms LAMMPS makes from
/// its atoms' storage order and (for set) its rank count: against Debian's `lmp` on one rank (atoms
/// stored in id order, as create_atoms leaves them), Tessera on 1 and 4 ranks must delete or retype
/// the same atoms — the same ids, types and positions in a dump sorted by id — and give the same
/// thermo to 1e-8 in the LJ run that follows; LAMMPS on 4 ranks must report the same counts where its
/// choice does not depend on the decomposition (set's counts are exact on any rank count).
final class RandomSelectionTests: XCTestCase {
  let lammps = "/usr/bin/lmp"

  /// 500 LJ atoms on an fcc lattice of type 1 and, with `interstitials`, 500 of type 2 shifted onto
  /// its tetrahedral sites (0.73 σ from four type-1 atoms), jiggled by `displace_atoms random` so
  /// that the distances vary; `body`, then `steps` steps with a dump (sorted by id) at steps 0 and 20.
  func deck(_ body: String, interstitials: Bool, steps: Int) -> String {
    """
    units lj
    atom_style atomic
    atom_modify map array
    lattice fcc 0.8442
    region box block 0 5 0 5 0 5
    create_box 2 box
    create_atoms 1 box
    \(interstitials ? "lattice fcc 0.8442 origin 0.25 0.25 0.25\ncreate_atoms 2 box" : "")
    mass 1 1.0
    mass 2 2.0
    displace_atoms all random 0.15 0.15 0.15 4821 units box
    pair_style lj/cut 2.5
    pair_coeff * * 1.0 1.0 2.5
    pair_coeff 2 2 1.2 0.9 2.5
    neighbor 0.3 bin
    group t1 type 1
    group t2 type 2
    region slab block INF INF INF INF 0 4.5 units box
    group low region slab
    \(body)
    velocity all create 1.0 4928 loop geom
    fix 1 all nve
    timestep 0.0005
    thermo_style custom step atoms temp pe ke etotal press pxx pyy pzz pxy pxz pyz
    thermo_modify format float %.16g norm no
    thermo 10
    dump 1 all custom 20 dump.*.txt id type x y z
    dump_modify 1 sort id format float %.16g
    run \(steps)
    """
  }

  /// The lines that report what was deleted or set.
  func reports(_ output: String) -> [String] {
    output.split(separator: "\n").map(String.init).filter { $0.hasPrefix("Deleted ") || $0.contains(" settings made for ") }
  }

  /// Rows of a dump file: id, type, x, y, z.
  func dumpRows(_ url: URL) throws -> [[Double]] {
    let lines = try String(contentsOf: url, encoding: .utf8).split(separator: "\n")
    guard let start = lines.firstIndex(where: { $0.hasPrefix("ITEM: ATOMS") }) else { return [] }
    return lines[(start + 1)...].map { $0.split(separator: " ").compactMap { Double($0) } }
  }

  /// `lammpsRanksAgree`: LAMMPS on 4 ranks reports the same counts (not where its choice depends on
  /// the decomposition).
  func compare(_ body: String, interstitials: Bool = true, steps: Int = 20, lammpsRanksAgree: Bool = true, file: StaticString = #filePath, line: UInt = #line) throws {
    guard FileManager.default.isExecutableFile(atPath: lammps) else { return XCTFail("Debian's lmp is not installed", file: file, line: line) }
    let dir = try makeScratchDirectory("random-selection")
    try deck(body, interstitials: interstitials, steps: steps).write(to: dir.appendingPathComponent("in.deck"), atomically: true, encoding: .utf8)
    func run(_ code: String, ranks: Int) throws -> (result: ProcessResult, dumps: [[[Double]]]) {
      let frames = Set([0, steps]).sorted().map { dir.appendingPathComponent("dump.\($0).txt") }
      for frame in frames { try? FileManager.default.removeItem(at: frame) }
      let result = code == "lammps"
        ? try runProcess("/usr/bin/mpirun", ["--oversubscribe", "-np", "\(ranks)", lammps, "-in", "in.deck", "-log", "none"], in: dir)
        : try runTessera(ranks: ranks, ["-in", "in.deck", "-log", "none"], in: dir)
      XCTAssertEqual(result.status, 0, "\(code) on \(ranks) ranks: \(result.combined)", file: file, line: line)
      return (result, try frames.map(dumpRows))
    }
    let reference = try run("lammps", ranks: 1)
    let expected = thermoRows(reference.result.output)
    XCTAssertEqual(expected.count, steps / 10 + 1, reference.result.output, file: file, line: line)
    XCTAssertFalse(reference.dumps[0].isEmpty, file: file, line: line)
    for ranks in [1, 4] {
      let tessera = try run("tessera", ranks: ranks)
      XCTAssertEqual(reports(tessera.result.output), reports(reference.result.output), "\(ranks) ranks", file: file, line: line)
      assertThermoTablesAgree(expected, thermoRows(tessera.result.output), tolerance: 1e-8, "\(ranks) ranks, LAMMPS vs Tessera",
                              file: file, line: line)
      for (frame, (mine, theirs)) in zip(tessera.dumps, reference.dumps).enumerated() {
        XCTAssertEqual(mine.map { $0[..<2] }, theirs.map { $0[..<2] }, "\(ranks) ranks, frame \(frame): ids and types", file: file, line: line)
        let worst = zip(mine, theirs).map { maxAbsoluteDifference(Array($0[2...]), Array($1[2...])) }.max() ?? 0
        XCTAssertLessThan(worst, 1e-8, "\(ranks) ranks, frame \(frame): positions", file: file, line: line)
      }
    }
    if lammpsRanksAgree {
      let split = try run("lammps", ranks: 4)
      XCTAssertEqual(reports(split.result.output), reports(reference.result.output), "LAMMPS on 4 ranks", file: file, line: line)
    }
  }

  /// Every pair closer than 0.8 σ loses one atom, owned pairs and pairs across the periodic faces
  /// (one LAMMPS rank's ghosts) alike; the survivors are then renumbered as LAMMPS on one rank numbers
  /// them. LAMMPS on 4 ranks deletes 613 atoms here, not 500: atoms of other ranks count as ghosts.
  func testOverlapInOneGroup() throws {
    try compare("delete_atoms overlap 0.8 all all", lammpsRanksAgree: false)
  }

  /// Only type-2 atoms near any atom go; ids keep their gaps.
  func testOverlapOfOneGroupWithAll() throws {
    try compare("delete_atoms overlap 0.7 t2 all compress no")
  }

  /// Groups that overlap in part (the lower slab, either type, against type 1): pairs that are a
  /// candidate only one way round, and both ways, across the periodic faces too. The close pairs
  /// left above the slab would blow the run up (LAMMPS loses atoms): step 0 only.
  func testOverlapOfCrossingGroups() throws {
    try compare("delete_atoms overlap 0.8 low t1 compress no", steps: 0)
  }

  /// Exactly ⌊0.3·500⌋ type-1 atoms become type 2, then exactly 40 of the lower slab's atoms (of
  /// either type by then) type 1: the atoms LAMMPS picks on one rank.
  func testTypeRatioAndSubset() throws {
    try compare("""
      set type 1 type/ratio 2 0.3 12345
      set group low type/subset 1 40 999
      """, interstitials: false)
  }
}
