import InputDeck
import Neighbors
import Potentials

/// A pair style as the deck describes it; turned into a `Potential` when a run starts.
enum PairStyle {
  case lennardJones(LennardJonesSettings)
  case deepPotential(DeepPotentialSettings)
}

/// `pair_style lj/cut RC` with its `pair_coeff` lines: explicit pairs, the rest mixed geometrically.
struct LennardJonesSettings {
  var globalCutoff: Double
  var explicit: [[LennardJonesPair?]]

  init(globalCutoff: Double, typeCount: Int) {
    self.globalCutoff = globalCutoff
    explicit = Array(repeating: Array(repeating: nil, count: typeCount + 1), count: typeCount + 1)
  }

  /// All pairs i ≤ j, mixing ε and σ and the cutoff geometrically where not given (LAMMPS's default
  /// `pair_modify mix geometric`); nil when a type has no coefficients at all.
  func resolved(typeCount: Int) -> (pairs: [[LennardJonesPair?]], missing: Int?) {
    var pairs = explicit
    for i in 1...typeCount {
      for j in i...typeCount where pairs[i][j] == nil {
        guard let a = explicit[i][i], let b = explicit[j][j] else { return (pairs, explicit[i][i] == nil ? i : j) }
        pairs[i][j] = LennardJonesPair(epsilon: (a.epsilon * b.epsilon).squareRoot(),
                                       sigma: (a.sigma * b.sigma).squareRoot(),
                                       cutoff: (a.cutoff * b.cutoff).squareRoot())
      }
    }
    return (pairs, nil)
  }
}

extension Simulation {
  func pairStyle(_ c: Command) throws {
    _ = try requireBox(c)
    let style = try c.word(0, "pair style")
    forceFieldDescription = "pair_style " + c.arguments.joined(separator: " ")
    modelChecksum = nil
    switch style {
    case "lj/cut":
      try c.expectCount(2, usage: "pair_style lj/cut CUTOFF")
      let cutoff = try c.double(1, "cutoff")
      guard cutoff > 0 else { throw c.error("cutoff must be positive, got \(cutoff)") }
      pairStyleSettings = .lennardJones(LennardJonesSettings(globalCutoff: cutoff, typeCount: masses.typeCount))
    case "deepmd":
      try deepPotentialStyle(c)
    default:
      throw c.error("unsupported pair style '\(style)' (lj/cut, deepmd)")
    }
    forceField = nil
  }

  func pairCoeff(_ c: Command) throws {
    guard let settings = pairStyleSettings else { throw c.error("pair_coeff before pair_style") }
    switch settings {
    case .lennardJones(var lj):
      try c.expectCount(4, 5, usage: "pair_coeff I J EPSILON SIGMA [CUTOFF]")
      let first = try typeRange(c.arguments[0], c), second = try typeRange(c.arguments[1], c)
      let epsilon = try c.double(2, "epsilon"), sigma = try c.double(3, "sigma")
      let cutoff = c.arguments.count == 5 ? try c.double(4, "cutoff") : lj.globalCutoff
      guard epsilon >= 0, sigma > 0, cutoff > 0 else { throw c.error("expected epsilon ≥ 0, sigma > 0, cutoff > 0") }
      for i in first {
        for j in second {
          lj.explicit[min(i, j)][max(i, j)] = LennardJonesPair(epsilon: epsilon, sigma: sigma, cutoff: cutoff)
        }
      }
      pairStyleSettings = .lennardJones(lj)
    case .deepPotential:
      try deepPotentialCoefficients(c)
    }
    forceField = nil
  }

  /// `pair_modify shift yes|no [mix geometric]`.
  func pairModify(_ c: Command) throws {
    var reader = KeywordReader(c)
    while let keyword = reader.nextKeyword() {
      switch keyword {
      case "shift": pairSettings.shift = try reader.yesNo()
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
    var settings = effectiveRebuild
    var reader = KeywordReader(c)
    while let keyword = reader.nextKeyword() {
      switch keyword {
      case "every": settings.every = try reader.positiveInteger("every")
      case "delay": settings.delay = Int(try reader.number("delay", .count))
      case "check": settings.check = try reader.yesNo()
      case "one": neighborOneLimit = try reader.positiveInteger("one")
      case "page": _ = try reader.positiveInteger("page")
      default: throw reader.unknownKeyword("every, delay, check, one, page")
      }
    }
    rebuild = settings
  }

  /// Builds the potential from the pair style when a run starts (once: later runs reuse it).
  func makeForceField(_ c: Command) throws -> ForceField {
    if let forceField { return forceField }
    guard let settings = pairStyleSettings else { throw c.error("no pair style defined") }
    let made: ForceField
    switch settings {
    case .lennardJones(let lj):
      let (pairs, missing) = lj.resolved(typeCount: masses.typeCount)
      if let missing { throw c.error("pair coefficients for atom type \(missing) are not set") }
      made = ForceField(potential: LennardJones(typeCount: masses.typeCount, pairs: pairs, shift: pairSettings.shift))
    case .deepPotential(let dp):
      made = try makeDeepPotential(dp, c)
    }
    forceField = made
    return made
  }
}
