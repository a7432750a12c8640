import InputDeck
import Neighbors
import Potentials

/// A pair style as the deck describes it — its `pair_style` line, then its `pair_coeff` lines — made
/// into a force field when a run starts. Each style is one file: its settings conform here, and one
/// row of `Simulation.pairStyles` parses its `pair_style` line.
protocol PairStyle {
  /// One `pair_coeff` line.
  mutating func coefficients(_ c: Command, _ simulation: Simulation) throws
  func makeForceField(_ c: Command, _ simulation: Simulation) throws -> ForceField
}

extension Simulation {
  /// Every pair style, by name, with the parser of its `pair_style` line; in the order errors list them.
  nonisolated(unsafe) static let pairStyles: KeyValuePairs<String, (Simulation, Command) throws -> PairStyle> = [
    "lj/cut": { simulation, c in try LennardJonesSettings(c, typeCount: simulation.masses.typeCount) },
    "deepmd": { simulation, c in try simulation.deepPotentialStyle(c) },
    "eam": { simulation, c in try EmbeddedAtomStyle(c, style: .funcfl, simulation) },
    "eam/alloy": { simulation, c in try EmbeddedAtomStyle(c, style: .setfl, simulation) },
    "eam/fs": { simulation, c in try EmbeddedAtomStyle(c, style: .finnisSinclair, simulation) },
  ]

  func pairStyle(_ c: Command) throws {
    _ = try requireBox(c)
    let style = try c.word(0, "pair style")
    setup.forceFieldDescription = "pair_style " + c.arguments.joined(separator: " ")
    setup.modelChecksum = nil
    guard let parse = Self.pairStyles.first(where: { $0.key == style })?.value else {
      throw c.error("unsupported pair style '\(style)' (\(Self.pairStyles.map(\.key).joined(separator: ", ")))")
    }
    setup.pairStyle = try parse(self, c)
    forceField = nil
  }

  func pairCoeff(_ c: Command) throws {
    guard var settings = setup.pairStyle else { throw c.error("pair_coeff before pair_style") }
    try settings.coefficients(c, self)
    setup.pairStyle = settings
    forceField = nil
  }

  /// `pair_modify shift yes|no [mix geometric]`.
  func pairModify(_ c: Command) throws {
    var reader = KeywordReader(c)
    while let keyword = reader.nextKeyword() {
      switch keyword {
      case "shift": setup.pairSettings.shift = try reader.yesNo()
      case "mix": _ = try reader.choice(["geometric": ()])
      default: throw reader.unknownKeyword("shift, mix")
      }
    }
    forceField = nil
  }

  /// `neighbor SKIN bin`.
  func neighbor(_ c: Command) throws {
    try c.expectCount(2, usage: "neighbor SKIN bin")
    let s = try c.double(0, "skin")
    guard s >= 0 else { throw c.error("skin must be non-negative, got \(s)") }
    guard c.arguments[1] == "bin" else { throw c.error("only the 'bin' neighbour style is supported, got '\(c.arguments[1])'") }
    skin = s
  }

  /// `neigh_modify every N delay M check yes|no one N`.
  func neighModify(_ c: Command) throws {
    var settings = setup.effectiveRebuild(units)
    var reader = KeywordReader(c)
    while let keyword = reader.nextKeyword() {
      switch keyword {
      case "every": settings.every = try reader.positiveInteger("every")
      case "delay": settings.delay = try reader.count("step count")
      case "check": settings.check = try reader.yesNo()
      case "one": setup.neighborOneLimit = try reader.positiveInteger("one")
      case "page": _ = try reader.positiveInteger("page")
      default: throw reader.unknownKeyword("every, delay, check, one, page")
      }
    }
    rebuild = settings
  }

  /// Builds the potential from the pair style when a run starts (once: later runs reuse it).
  func makeForceField(_ c: Command) throws -> ForceField {
    if let forceField { return forceField }
    guard let settings = setup.pairStyle else { throw c.error("no pair style defined") }
    let made = try settings.makeForceField(c, self)
    forceField = made
    return made
  }
}
