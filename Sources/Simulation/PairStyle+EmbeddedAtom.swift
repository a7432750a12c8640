import InputDeck
import Potentials

/// `pair_style eam|eam/alloy|eam/fs` with LAMMPS's `pair_coeff` lines: `I J FILE` per type pair for
/// funcfl files, `* * FILE ELEMENT…` for setfl and Finnis–Sinclair files. As in LAMMPS, the file sets
/// the masses of the types it covers.
struct EmbeddedAtomStyle: PairStyle {
  var setup: EmbeddedAtomSetup

  /// `pair_style NAME` (no arguments; the files are in metal units).
  init(_ c: Command, style: EmbeddedAtomSetup.Style, _ simulation: Simulation) throws {
    try c.expectCount(1, usage: "pair_style \(style.rawValue) (no arguments)")
    guard simulation.units.name == "metal" else {
      throw c.error("\(style.rawValue) potential files are in metal units (Å, eV), not \(simulation.units.name)")
    }
    setup = EmbeddedAtomSetup(style: style, typeCount: simulation.masses.typeCount)
  }

  mutating func coefficients(_ c: Command, _ simulation: Simulation) throws {
    let typeMasses: [(type: Int, mass: Double)]
    if setup.style == .funcfl {
      try c.expectCount(3, usage: "pair_coeff I J FILE")
      let first = try simulation.typeRange(c.arguments[0], c), second = try simulation.typeRange(c.arguments[1], c)
      do { typeMasses = try setup.assignFuncfl(path: c.arguments[2], first: first, second: second) } catch { throw c.error("\(error)") }
    } else {
      guard c.arguments.count >= 3, c.arguments[0] == "*", c.arguments[1] == "*" else {
        throw c.error("expected 'pair_coeff * * FILE ELEMENT…' for pair_style \(setup.style.rawValue)")
      }
      do { typeMasses = try setup.assignElements(path: c.arguments[2], elements: Array(c.arguments.dropFirst(3))) } catch {
        throw c.error("\(error)")
      }
    }
    for (type, mass) in typeMasses { simulation.masses.set(type: type, mass: mass) }
    simulation.setup.forceFieldDescription += "; pair_coeff " + c.arguments.joined(separator: " ")
  }

  func makeForceField(_ c: Command, _ simulation: Simulation) throws -> ForceField {
    do { return ForceField(potential: try setup.makePotential()) } catch { throw c.error("\(error)") }
  }
}
