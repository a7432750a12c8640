import Foundation
import TesseraTestSupport
import XCTest

/// The commands that change the state outside a run — `change_box`, `region` shapes, `group` with
/// `velocity GROUP create|scale|set|zero`, `delete_atoms`, `set`, `displace_atoms` — `v_` thermo columns, and `run … upto|start|stop|post`, against Debian's `lmp` on the same deck: a small LJ
/// liquid (864 atoms) changed, then run; every thermo column to 1e-8 on 1 and 4 ranks.
final class StateCommandTests: XCTestCase {
  let lammps = "/usr/bin/lmp"

  func deck(_ body: String) -> String {
    """
    units lj
    atom_style atomic
    atom_modify map array
    read_data liquid.data
    pair_style lj/cut 2.5
    pair_coeff 1 1 1.0 1.0 2.5
    neighbor 0.3 bin
    neigh_modify every 1 delay 0 check yes
    timestep 0.002
    thermo_style custom step temp pe ke etotal press vol lx ly lz xy xz yz pxx pyy pzz pxy pxz pyz
    thermo_modify format float %.16g norm no
    thermo 50
    \(body)
    """
  }

  /// Runs `body` after the liquid of `liquid.data` (made by `melt`, LAMMPS's one-type liquid by
  /// default) in both codes; thermo rows, and the lines that report what a command did (`print`ed
  /// "P: " lines, "Deleted …", "… atoms in group …", "… settings made for …"), must agree.
  func compare(_ body: String, rows: Int, melt: ((URL) throws -> Void)? = nil,
               file: StaticString = #filePath, line: UInt = #line) throws {
    guard FileManager.default.isExecutableFile(atPath: lammps) else { return XCTFail("Debian's lmp is not installed", file: file, line: line) }
    let dir = try makeScratchDirectory("state-command")
    if let melt { try melt(dir) } else { try meltLiquidWithLammps(in: dir, region: "region box block 0 6 0 6 0 6") }
    try deck(body).write(to: dir.appendingPathComponent("in.deck"), atomically: true, encoding: .utf8)
    for ranks in [1, 4] {
      let reference = try runProcess("/usr/bin/mpirun", ["--oversubscribe", "-np", "\(ranks)", lammps, "-in", "in.deck", "-log", "none"], in: dir)
      XCTAssertEqual(reference.status, 0, reference.combined, file: file, line: line)
      let tessera = try runTessera(ranks: ranks, ["-in", "in.deck", "-log", "none"], in: dir)
      XCTAssertEqual(tessera.status, 0, tessera.combined, file: file, line: line)
      let expected = thermoRows(reference.output)
      XCTAssertEqual(expected.count, rows, reference.output, file: file, line: line)
      func printed(_ output: String) -> [String] {
        output.split(separator: "\n").map(String.init).filter {
          $0.hasPrefix("P: ") || $0.hasPrefix("Deleted ") || $0.contains(" atoms in group ") || $0.contains(" settings made for ")
        }
      }
      XCTAssertEqual(printed(tessera.output), printed(reference.output), "\(ranks) ranks: printed lines", file: file, line: line)
      assertThermoTablesAgree(expected, thermoRows(tessera.output), tolerance: 1e-8, "\(ranks) ranks, LAMMPS vs Tessera",
                              file: file, line: line)
    }
  }

  /// Scaled, shifted and set lengths (box units, and the lattice units that are the default), made
  /// triclinic and tilted with the atoms remapped; then a change without remap (the run wraps the
  /// atoms into the new box).
  func testChangeBoxWithAndWithoutRemap() throws {
    try compare("""
      fix 1 all nve
      change_box all x scale 1.02 y delta -0.1 0.15 z final -0.05 10.1 remap units box
      lattice fcc 0.8442
      change_box all z delta 0 0.02 remap
      change_box all triclinic
      change_box all xy final 0.3 xz delta 0.2 yz final -0.1 remap units box
      run 100
      change_box all x delta 0 0.05 xy delta 0.1 units box
      run 100
      """, rows: 6)
  }

  /// A thermostat ramp spread over two runs by start/stop, the second ending at a step (`upto`) and
  /// printing only its loop time (`post no`); `pre no` accepted.
  func testRunUptoAndRampAcrossRuns() throws {
    try compare("""
      fix 1 all nvt temp 1.6 1.0 0.2
      run 100 start 0 stop 300 pre yes
      run 300 upto start 0 stop 300 pre no post no
      """, rows: 3 + 5)
  }

  /// Groups by id ranges (with a stride, and added to), by type and by region; velocities set on
  /// them in box and lattice units, replacing or added to (`sum yes`), one component or all; the
  /// groups' momentum and rotation removed.
  func testGroupsAndVelocities() throws {
    try compare("""
      region left block -1 5 -1 11 -1 11 units box
      region slab block 0 10 0 10 2 4 units box
      group low id 1:400
      group low id 700:860:3
      group left region left
      group slab region slab
      group first id 1
      group t type 1
      velocity first set 1.5 -0.5 2.0 units box
      velocity left set 0.3 NULL NULL sum yes units box
      lattice fcc 0.8442
      velocity slab set NULL NULL 0.2 sum yes
      velocity low zero linear
      velocity left zero angular
      fix 1 all nve
      run 100
      velocity t zero linear
      run 100
      """, rows: 6)
  }

  /// `velocity GROUP create` drawing LAMMPS's numbers — `loop all` (uniform, and gaussian with the group's
  /// rotation removed) and `loop geom` (without momentum removal) — on all atoms and on groups, whose
  /// other atoms keep their velocities, each scaled to its group's temperature; `velocity GROUP scale`.
  func testVelocityCreateAndScaleOnGroups() throws {
    try compare("""
      region left block -1 5 -1 11 -1 11 units box
      group left region left
      group odd id 1:864:2
      velocity all create 1.2 4928459
      run 0
      velocity left create 2.0 87287 dist gaussian rot yes
      velocity odd create 0.8 12345 loop geom mom no dist uniform
      velocity left scale 1.4
      fix 1 all nve
      run 100
      velocity odd scale 1.0
      run 50
      """, rows: 1 + 3 + 2)
  }

  /// `delete_atoms region|group` with and without compress (ids left with gaps, then renumbered),
  /// the atom count and the temperature's degrees of freedom following.
  func testDeleteAtoms() throws {
    try compare("""
      thermo_style custom step atoms temp pe ke etotal press pxx pyy pzz pxy pxz pyz
      thermo_modify format float %.16g norm no
      region hole sphere 5 5 5 2.5 units box
      delete_atoms region hole compress no
      group h id 1:50
      region slab block INF INF INF INF 8 9 units box
      group g region slab
      delete_atoms group g compress no
      fix 1 all nve
      run 100
      delete_atoms group h
      run 100
      """, rows: 6)
  }

  /// Equal-style variables of thermo keywords as `v_` thermo columns (evaluated at each row's step)
  /// and in `print` after the run.
  func testVariablesInThermoAndPrint() throws {
    try compare("""
      variable epa equal pe/atoms
      variable mix equal temp*2+step-press/vol
      thermo_style custom step temp pe v_epa v_mix press
      thermo_modify format float %.16g norm no
      fix 1 all nve
      run 100
      variable last equal step+atoms
      print "P: ${last}"
      """, rows: 3)
  }

  /// `set` on a two-type liquid: a random fraction of the atoms retyped (`type/fraction`, the same
  /// atoms as LAMMPS picks), by region with image flags, by id range and by group; the run then
  /// has different masses and pair coefficients per type.
  func testSetTypes() throws {
    let melt = { (dir: URL) in
      try """
        units lj
        atom_style atomic
        lattice fcc 0.8442
        region box block 0 6 0 6 0 6
        create_box 2 box
        create_atoms 1 box
        mass 1 1.0
        mass 2 2.0
        velocity all create 1.6 87287 loop geom
        pair_style lj/cut 2.5
        pair_coeff * * 1.0 1.0 2.5
        fix 1 all nve
        run 300
        write_data liquid.data nocoeff
        """.write(to: dir.appendingPathComponent("in.melt"), atomically: true, encoding: .utf8)
      let result = try runProcess(self.lammps, ["-in", "in.melt", "-log", "none"], in: dir)
      XCTAssertEqual(result.status, 0, result.combined)
    }
    try compare("""
      pair_coeff 2 2 1.2 1.1 2.5
      pair_coeff 1 2 0.8 1.05 2.5
      set type 1 type/fraction 2 0.3 12345
      region r sphere 5 5 5 2 units box
      set region r type 1 image 1 NULL -2
      set atom 10*20 type 2
      set atom 1 type 2
      group g id 100:200
      set group g type/fraction 1 0.5 777
      fix 1 all nve
      run 100
      """, rows: 3, melt: melt)
  }

  /// `displace_atoms random` (the same displacements as LAMMPS: its generator seeded from the
  /// coordinates read from the data file) in box and lattice units, and `move` across the box
  /// (atoms wrapped back, image flags counted).
  func testDisplaceAtoms() throws {
    try compare("""
      displace_atoms all random 0.05 0.05 0.05 4567 units box
      group g id 1:100
      displace_atoms g move 0.1 0 -10.2 units box
      lattice fcc 0.8442
      displace_atoms g random 0.01 0.02 0.03 99
      fix 1 all nve
      run 100
      """, rows: 3)
  }

  /// Region shapes (sphere, cylinder with INF and EDGE bounds, plane, union, intersect, side out,
  /// lattice and box units) fill and select the same atoms as in LAMMPS: every "Created N atoms"
  /// and "N atoms in group" line the same, on 1 and 4 ranks.
  func testRegionShapesSelectWhatLammpsSelects() throws {
    guard FileManager.default.isExecutableFile(atPath: lammps) else { return XCTFail("Debian's lmp is not installed") }
    let dir = try makeScratchDirectory("regions")
    try """
      units lj
      atom_style atomic
      lattice fcc 0.8442
      region box block 0 6 0 6 0 9
      region slab block 0 6 0 6 0 6
      create_box 1 box
      create_atoms 1 region slab
      region ball sphere 3 3 3 2.2
      region rod cylinder z 3 3 1.5 INF EDGE side out
      region half plane 3 3 3 1 1 0
      region either union 2 ball half
      region both intersect 2 rod either
      region top block INF INF INF INF 7.5 INF
      create_atoms 1 region top
      region shell sphere 5.0 5.0 5.0 4.0 side out units box
      region tube cylinder x 5.0 5.0 3.0 EDGE 8.0 units box
      region tilted prism 0 3 0 3 0 3 1 0.5 0 units lattice
      group g1 region ball
      group g2 region rod
      group g3 region half
      group g4 region either
      group g5 region both
      group g6 region shell
      group g7 region tube
      group g8 region tilted
      group g9 region top
      delete_atoms region half compress no
      group g10 id 1:400
      delete_atoms region ball
      group g11 id 1:100000
      """.write(to: dir.appendingPathComponent("in.regions"), atomically: true, encoding: .utf8)
    func counts(_ output: String) -> [String] {
      output.split(separator: "\n").map(String.init).filter {
        $0.hasPrefix("Created ") && $0.hasSuffix(" atoms") || $0.contains(" atoms in group ") || $0.hasPrefix("Deleted ")
      }
    }
    let reference = try runProcess(lammps, ["-in", "in.regions", "-log", "none"], in: dir)
    XCTAssertEqual(reference.status, 0, reference.combined)
    let expected = counts(reference.output)
    XCTAssertEqual(expected.count, 15, reference.output)
    for ranks in [1, 4] {
      let tessera = try runTessera(ranks: ranks, ["-in", "in.regions", "-log", "none"], in: dir)
      XCTAssertEqual(tessera.status, 0, tessera.combined)
      XCTAssertEqual(counts(tessera.output), expected, "\(ranks) ranks")
    }
  }

  /// Bad change_box, group, velocity and run arguments are located errors (one rank, without mpirun).
  func testBadArgumentsAreLocated() throws {
    let dir = try makeScratchDirectory("change-box-errors")
    let system = "units lj\nlattice fcc 0.8442\nregion box block 0 3 0 3 0 3\ncreate_box 1 box\ncreate_atoms 1 box\nmass 1 1.0\n"
      + "pair_style lj/cut 2.5\npair_coeff 1 1 1 1\nfix 1 all nve\nrun 10\n"
    for (line, message) in [
      ("change_box all xy final 0.2", "in.bad:11: change_box: cannot change the tilt xy of an orthogonal box"),
      ("change_box all triclinic xy final 0.2\nchange_box all ortho", "in.bad:12: change_box: cannot make the box orthogonal while a tilt is non-zero"),
      ("change_box all triclinic xy final 60 units box", "in.bad:11: change_box: tilt xy = 60.0 is more than 10 box lengths along x"),
      ("run 10 start -5", "in.bad:11: run: start must be a step >= 0, got -5"),
      ("variable x equal v_x+1\nthermo_style custom step v_x\nrun 1", "in.bad:13: variable 'x': formulas refer to one another more than 100 deep"),
      ("displace_atoms all move 1e300 0 0 units box", "in.bad:11: displace_atoms: 108 atoms would move more than 1e9 box lengths"),
      ("change_box all x scale -1", "in.bad:11: change_box: expected x scale factor > 0 after x, got '-1'"),
      ("change_box all x stretch 2", "in.bad:11: change_box: expected final, delta or scale after x, got 'stretch'"),
      ("change_box all volume", "in.bad:11: change_box: unsupported operation 'volume'"),
      ("change_box all boundary p p f z delta 0 -3 units box", "atoms lie outside the new box across a fixed boundary"),
      ("run 5 upto", "in.bad:11: run: run 5 upto: the current step 10 is already past it"),
      ("run 10 start 20", "in.bad:11: run: start 20 is after the run's first step 10"),
      ("run 10 every 5 \"print x\"", "in.bad:11: run: unsupported keyword 'every' (upto, start, stop, pre, post)"),
      ("group all id 1", "in.bad:11: group: the group 'all' is predefined"),
      ("thermo_style custom step v_nope\nrun 1", "in.bad:12: run: thermo keyword 'v_nope' names no defined variable"),
      ("variable s index 3\nthermo_style custom step v_s\nrun 1", "in.bad:13: run: thermo keyword 'v_s': the variable must be equal-style"),
      ("region r sphere 1 2 3", "in.bad:11: region: region sphere expects 4 values after the style, got 3"),
      ("region r plane 0 0 0 0 0 0", "in.bad:11: region: the plane's normal must not be zero"),
      ("region r union 2 a b", "in.bad:11: region: unknown region 'a'"),
      ("region r cone 1 2 3", "in.bad:11: region: unsupported region style 'cone'"),
      ("set type 1 type 2", "in.bad:11: set: expected an atom type from 1 to 1, got '2'"),
      ("set type 1 type/fraction 1 1.5 7", "in.bad:11: set: type/fraction needs a fraction from 0 to 1, got 1.5"),
      ("set atom 5*2 type 1", "in.bad:11: set: empty atom id range '5*2'"),
      ("set type 1 mass 2.0", "in.bad:11: set: atom_style atomic keeps masses per type: use the mass command"),
      ("displace_atoms all rotate 0 0 0 0 0 1 90", "in.bad:11: displace_atoms: displace_atoms rotate is not supported (move, random)"),
      ("displace_atoms all random 0.1 0.1 0.1 0", "in.bad:11: displace_atoms: expected a positive integer for seed, got 0"),
      ("delete_atoms overlap 3 all all", "in.bad:11: delete_atoms: the overlap cutoff 3.0 is beyond the neighbour cutoff 2.8 (pair cutoff + skin)"),
      ("delete_atoms random fraction 0.5 no all NULL 7", "in.bad:11: delete_atoms: delete_atoms random is not supported (region, group, overlap)"),
      ("set type 1 type/subset 1 200 7", "in.bad:11: set: type/subset 200 exceeds the 108 eligible atoms"),
      ("set type 1 type/ratio 1 0.5 900000001", "in.bad:11: set: type/ratio seed 900000001 is larger than 900000000"),
      ("delete_atoms region nowhere", "in.bad:11: delete_atoms: unknown region 'nowhere'"),
      ("group g id 5:2", "in.bad:11: group: empty range '5:2'"),
      ("group g region nowhere", "in.bad:11: group: unknown region 'nowhere'"),
      ("velocity g set 1 0 0", "in.bad:11: velocity: unknown group 'g'"),
      ("velocity all create 1.0 42 loop every", "in.bad:11: velocity: expected all, local or geom after loop, got 'every'"),
      ("velocity all set 1 NULL", "in.bad:11: velocity: missing velocity component 3"),
    ] {
      try (system + line + "\n").write(to: dir.appendingPathComponent("in.bad"), atomically: true, encoding: .utf8)
      assertRunRefused(try runProcess(tesseraBinary, ["-in", "in.bad", "-log", "none"], in: dir), saying: message, line)
    }
    try "units lj\nread_restart nothing.*.bin\n".write(to: dir.appendingPathComponent("in.missing"), atomically: true, encoding: .utf8)
    let missing = try runProcess(tesseraBinary, ["-in", "in.missing", "-log", "none"], in: dir)
    assertRunRefused(missing, saying: "in.missing:2: read_restart: no restart file matches 'nothing.*.bin'", "no restart")
  }
}
