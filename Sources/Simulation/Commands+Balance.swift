import Communication
import Decomposition
import Dynamics
import Foundation
import Geometry
import InputDeck

/// LAMMPS's `{:.8}` as its Debian build prints it (`%#.8g`): 8 significant digits, trailing zeros kept.
func significant8(_ x: Double) -> String { String(format: "%#.8g", x) }

extension Simulation {
  /// `balance thresh shift dimstr Niter stopthresh` or `balance thresh x|y|z uniform|cuts… …`
  /// (LAMMPS's `Balance::command`, styles `shift` and `x y z`; `rcb`, `weight` and `out` refused).
  /// Under `tessera check` the cuts are worked out for the planned grid and reported (`Execution`).
  func balance(_ c: Command) throws {
    let box = try requireBox(c)
    gatherAtomsOnOwners(box)
    var grid = execution.gridToBalance(self, box: box)
    let threshold = try c.double(0, "imbalance threshold")
    let style = try c.word(1, "balance style")
    var explicitCuts: [Int: [Double]] = [:]
    var shift: ShiftBalancer?
    var reader = KeywordReader(c, from: 1)
    if style == "shift" {
      _ = reader.nextKeyword()
      shift = try shiftSettings(&reader, interpolates: false)
    } else {
      while let letter = reader.peek, let d = ["x", "y", "z"].firstIndex(of: letter) {
        _ = reader.nextKeyword()
        guard explicitCuts[d] == nil else { throw c.error("\(letter) given twice") }
        let n = grid.counts[d]
        if reader.take("uniform") {
          explicitCuts[d] = (0...n).map { Double($0) / Double(n) }
          continue
        }
        var cuts = [0.0]
        for k in 1..<n { cuts.append(try reader.double("cut \(k) of \(n - 1) along \(letter)")) }
        cuts.append(1)
        for k in 1...n where !(cuts[k - 1] < cuts[k]) {
          throw c.error("cuts along \(letter) must ascend strictly between 0 and 1, got \(cuts[1..<n].map { "\($0)" }.joined(separator: " "))")
        }
        explicitCuts[d] = cuts
      }
      if explicitCuts.isEmpty {
        throw c.error("unsupported balance style '\(style)' (shift, x, y, z; rcb needs comm_style tiled, which Tessera does not have)")
      }
    }
    if let extra = reader.nextKeyword() {
      throw c.error("unsupported balance keyword '\(extra)' (weight and out are not supported)")
    }
    console.line("Balancing ...")
    let start = Date()
    let fractions = wrappedFractions(atoms, box)
    let initial = execution.imbalance(grid, fractions: fractions, self)
    guard initial.0 >= threshold else { return }
    var iterations = 0
    if let shift {
      do {
        iterations = try shift.balance(&grid, fractions: fractions, skin: setup.effectiveRebuild(units).skin, lengths: box.length, comm: comm)
      } catch { throw c.error("\(error)") }
    }
    for (d, cuts) in explicitCuts { grid.setCuts(cuts, along: d) }
    let final = try execution.adopt(grid, box: box, fractions: fractions, command: c, self)
    console.line(String(format: " rebalancing time: %.3f seconds", Date().timeIntervalSince(start)))
    console.line("  iteration count = \(iterations)")
    console.line("  initial/final maximal load/proc = \(significant8(initial.1)) \(significant8(final.1))")
    console.line("  initial/final imbalance factor  = \(significant8(initial.0)) \(significant8(final.0))")
    for (d, name) in ["x", "y", "z"].enumerated() {
      console.line("  \(name) cuts: " + grid.cuts[d].map(significant8).joined(separator: " "))
    }
  }

  /// `fix ID all balance Nfreq thresh shift dimstr Niter stopthresh`.
  func balanceFix(_ c: Command) throws -> Fix {
    let style = try c.word(5, "fix balance style")
    guard style == "shift" else {
      throw c.error("unsupported fix balance style '\(style)' (shift; rcb needs comm_style tiled, which Tessera does not have)")
    }
    try c.expectCount(9, usage: "fix ID all balance Nfreq thresh shift dimstr Niter stopthresh (weight and out are not supported)")
    let every = try c.integer(3, "Nfreq")
    guard every >= 0 else { throw c.error("Nfreq must be non-negative, got \(every)") }
    let threshold = try c.double(4, "imbalance threshold")
    var reader = KeywordReader(c, from: 5)
    _ = reader.nextKeyword()
    return LoadBalanceFix(every: every, threshold: threshold, balancer: try shiftSettings(&reader, interpolates: true))
  }

  /// `dimstr Niter stopthresh` after the word `shift`.
  private func shiftSettings(_ reader: inout KeywordReader, interpolates: Bool) throws -> ShiftBalancer {
    let letters = try reader.word("shift dimensions (x, y, z)")
    let dimensions = letters.compactMap { ["x": 0, "y": 1, "z": 2][$0] }
    guard dimensions.count == letters.count, !letters.isEmpty, Set(dimensions).count == dimensions.count else {
      throw reader.error("shift dimensions must be x, y and z each at most once, got '\(letters)'")
    }
    let iterations = try reader.positiveInteger("Niter")
    let stop = try reader.double("stopthresh")
    guard stop >= 1 else { throw reader.error("stopthresh must be at least 1.0, got \(stop)") }
    return ShiftBalancer(dimensions: dimensions, maxIterations: iterations, stopThreshold: stop, interpolates: interpolates)
  }

  /// Atoms wrapped into the box and moved to the ranks whose bricks hold them (ghosts dropped; the
  /// next run rebuilds them).
  func gatherAtomsOnOwners(_ box: Box) {
    atoms.clearGhosts()
    for i in 0..<atoms.ownedCount {
      var x = atoms.positionOf(i), image = atoms.imageOf(i)
      box.wrap(&x, image: &image)
      atoms.setPosition(i, x)
      atoms.setImage(i, image)
    }
    migration.exchange(atoms, box: box, grid: grid!, comm: comm)
  }
}
