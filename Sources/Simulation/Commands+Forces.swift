import InputDeck
import Neighbors
import Potentials

/// A pair style as the deck describes it; turned into a `Potential` when a run starts.
enum PairStyle {
  case lennardJones(LennardJonesSettings)
  case deepPotential(DeepPotentialSettings)
  case embeddedAtom(EmbeddedAtomSetup)
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
    case let name where EmbeddedAtomSetup.Style(rawValue: name) != nil:
      try c.expectCount(1, usage: "pair_style \(name) (no arguments)")
      guard units.name == "metal" else { throw c.error("\(name) potential files are in metal units (Å, eV), not \(units.name)") }
      pairStyleSettings = .embeddedAtom(EmbeddedAtomSetup(style: .init(rawValue: name)!, typeCount: masses.typeCount))
    default:
      throw c.error("unsupported pair style '\(style)' (lj/cut, deepmd, eam, eam/alloy, eam/fs)")
    }
    potential = nil
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
    case .embeddedAtom(var eam):
      // As LAMMPS, the file sets the masses of the types it covers.
      let typeMasses: [(type: Int, mass: Double)]
      if eam.style == .funcfl {
        try c.expectCount(3, usage: "pair_coeff I J FILE")
        let first = try typeRange(c.arguments[0], c), second = try typeRange(c.arguments[1], c)
        do { typeMasses = try eam.assignFuncfl(path: c.arguments[2], first: first, second: second) } catch { throw c.error("\(error)") }
      } else {
        guard c.arguments.count >= 3, c.arguments[0] == "*", c.arguments[1] == "*" else {
          throw c.error("expected 'pair_coeff * * FILE ELEMENT…' for pair_style \(eam.style.rawValue)")
        }
        do { typeMasses = try eam.assignElements(path: c.arguments[2], elements: Array(c.arguments.dropFirst(3))) } catch {
          throw c.error("\(error)")
        }
      }
      for (type, mass) in typeMasses { masses.set(type: type, mass: mass) }
      forceFieldDescription += "; pair_coeff " + c.arguments.joined(separator: " ")
      pairStyleSettings = .embeddedAtom(eam)
    }
    potential = nil
  }

  /// `pair_modify shift yes|no [mix geometric]`.
  func pairModify(_ c: Command) throws {
    var i = 0
    while i < c.arguments.count {
      switch c.arguments[i] {
      case "shift": pairSettings.shift = try c.yesNo(i + 1, "shift")
      case "mix":
        guard try c.word(i + 1, "mixing rule") == "geometric" else { throw c.error("only 'mix geometric' is supported") }
      case let w: throw c.error("unsupported keyword '\(w)' (shift, mix)")
      }
      i += 2
    }
    potential = nil
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
    var i = 0
    while i < c.arguments.count {
      switch c.arguments[i] {
      case "every": settings.every = try c.positiveInteger(i + 1, "every")
      case "delay":
        settings.delay = try c.integer(i + 1, "delay")
        guard settings.delay >= 0 else { throw c.error("delay must be non-negative") }
      case "check": settings.check = try c.yesNo(i + 1, "check")
      case "one": neighborOneLimit = try c.positiveInteger(i + 1, "one")
      case "page": _ = try c.positiveInteger(i + 1, "page")
      case let w: throw c.error("unsupported keyword '\(w)' (every, delay, check, one, page)")
      }
      i += 2
    }
    rebuild = settings
  }

  /// Builds the potential from the pair style when a run starts.
  func makePotential(_ c: Command) throws -> Potential {
    if let potential { return potential }
    guard let settings = pairStyleSettings else { throw c.error("no pair style defined") }
    let made: Potential
    switch settings {
    case .lennardJones(let lj):
      let (pairs, missing) = lj.resolved(typeCount: masses.typeCount)
      if let missing { throw c.error("pair coefficients for atom type \(missing) are not set") }
      made = LennardJones(typeCount: masses.typeCount, pairs: pairs, shift: pairSettings.shift)
    case .deepPotential(let dp):
      made = try makeDeepPotential(dp, c)
    case .embeddedAtom(let eam):
      do { made = try eam.makePotential() } catch { throw c.error("\(error)") }
    }
    potential = made
    return made
  }
}
