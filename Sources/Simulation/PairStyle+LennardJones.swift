import InputDeck
import Potentials

/// `pair_style lj/cut RC` with its `pair_coeff I J EPSILON SIGMA [CUTOFF]` lines: explicit pairs, the
/// rest mixed geometrically.
struct LennardJonesSettings: PairStyle {
  var globalCutoff: Double
  var explicit: [[LennardJonesPair?]]

  init(globalCutoff: Double, typeCount: Int) {
    self.globalCutoff = globalCutoff
    explicit = Array(repeating: Array(repeating: nil, count: typeCount + 1), count: typeCount + 1)
  }

  /// `pair_style lj/cut CUTOFF`.
  init(_ c: Command, typeCount: Int) throws {
    try c.expectCount(2, usage: "pair_style lj/cut CUTOFF")
    let cutoff = try c.double(1, "cutoff")
    guard cutoff > 0 else { throw c.error("cutoff must be positive, got \(cutoff)") }
    self.init(globalCutoff: cutoff, typeCount: typeCount)
  }

  mutating func coefficients(_ c: Command, _ simulation: Simulation) throws {
    try c.expectCount(4, 5, usage: "pair_coeff I J EPSILON SIGMA [CUTOFF]")
    let first = try simulation.typeRange(c.arguments[0], c), second = try simulation.typeRange(c.arguments[1], c)
    let epsilon = try c.double(2, "epsilon"), sigma = try c.double(3, "sigma")
    let cutoff = c.arguments.count == 5 ? try c.double(4, "cutoff") : globalCutoff
    guard epsilon >= 0, sigma > 0, cutoff > 0 else { throw c.error("expected epsilon ≥ 0, sigma > 0, cutoff > 0") }
    for i in first {
      for j in second {
        explicit[min(i, j)][max(i, j)] = LennardJonesPair(epsilon: epsilon, sigma: sigma, cutoff: cutoff)
      }
    }
  }

  func makeForceField(_ c: Command, _ simulation: Simulation) throws -> ForceField {
    let typeCount = simulation.masses.typeCount
    let (pairs, missing) = resolved(typeCount: typeCount)
    if let missing { throw c.error("pair coefficients for atom type \(missing) are not set") }
    return ForceField(potential: LennardJones(typeCount: typeCount, pairs: pairs, shift: simulation.setup.pairSettings.shift))
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
