import Dynamics
import InputDeck

extension Simulation {
  /// Every fix style, by name, with the parser of its `fix ID all STYLE …` line; in the order errors
  /// list them. A new style is its file (the fix, and its parser here or beside it) and one row.
  nonisolated(unsafe) static let fixStyleTable: KeyValuePairs<String, (Simulation, Command) throws -> Fix> = [
    "nve": { _, c in
      try c.expectCount(3, usage: "fix ID all nve")
      return VelocityVerlet()
    },
    "nvt": { simulation, c in try simulation.noseHoover(c) },
    "npt": { simulation, c in try simulation.noseHoover(c) },
    "nph": { simulation, c in try simulation.noseHoover(c) },
    "langevin": { simulation, c in try simulation.langevin(c) },
    "temp/csvr": { simulation, c in
      try c.expectCount(7, usage: "fix ID all temp/csvr Tstart Tstop Tdamp SEED")
      let (start, stop, damp) = try simulation.temperatures(c)
      return StochasticVelocityRescaling(startTemperature: start, stopTemperature: stop, damping: damp,
                                         seed: try simulation.seed(c, 6))
    },
    "temp/berendsen": { simulation, c in
      try c.expectCount(6, usage: "fix ID all temp/berendsen Tstart Tstop Tdamp")
      let (start, stop, damp) = try simulation.temperatures(c)
      return BerendsenThermostat(startTemperature: start, stopTemperature: stop, damping: damp)
    },
    "momentum": { _, c in
      try c.expectCount(8, usage: "fix ID all momentum N linear 1 1 1")
      let every = try c.positiveInteger(3, "momentum interval")
      guard c.arguments[4] == "linear", c.arguments[5...7].allSatisfy({ $0 == "1" }) else {
        throw c.error("only 'linear 1 1 1' is supported, got '\(c.arguments[4...].joined(separator: " "))'")
      }
      return MomentumRemoval(every: every)
    },
    "balance": { simulation, c in try simulation.balanceFix(c) },
  ]

  /// `fix ID all STYLE …`: integrators, thermostats, barostats and momentum removal with LAMMPS's arguments.
  /// Redefining an ID replaces that fix in place, as LAMMPS does.
  func fix(_ c: Command) throws {
    try c.expectCount(3, Int.max, usage: "fix ID GROUP STYLE …")
    guard c.arguments[1] == "all" else { throw c.error("only the group 'all' is supported") }
    let id = c.arguments[0]
    guard let parse = Self.fixStyleTable.first(where: { $0.key == c.arguments[2] })?.value else {
      throw c.error("unsupported fix style '\(c.arguments[2])' (\(Self.fixStyleTable.map(\.key).joined(separator: ", ")))")
    }
    let made = try parse(self, c)
    if let saved = pendingFixStates.removeValue(forKey: id) {
      guard saved.style == c.arguments[2] else {
        throw c.error("the restart holds fix '\(id)' of style \(saved.style), not \(c.arguments[2])")
      }
      do {
        try made.restore(saved.state)
        try made.restorePerAtom(pendingPerAtomStates.removeValue(forKey: id) ?? [:])
      } catch { throw c.error("fix \(id): cannot take its state from the restart: \(error)") }
    }
    setup.fixStyles[id] = c.arguments[2]
    if let index = fixes.firstIndex(where: { $0.id == id }) {
      fixes[index].fix = made
    } else {
      fixes.append((id, made))
    }
  }

  /// `Tstart Tstop Tdamp`, the next three words of `reader`.
  func temperatures(_ reader: inout KeywordReader) throws -> (Double, Double, Double) {
    let start = try reader.double("Tstart"), stop = try reader.double("Tstop"), damp = try reader.double("Tdamp")
    guard start >= 0, stop >= 0 else { throw reader.error("temperatures must be non-negative, got \(start) and \(stop)") }
    guard damp > 0 else { throw reader.error("Tdamp must be positive, got \(damp)") }
    return (start, stop, damp)
  }

  /// The temperatures of a fix whose arguments start with them (`fix ID all STYLE Tstart Tstop Tdamp …`).
  fileprivate func temperatures(_ c: Command) throws -> (Double, Double, Double) {
    var reader = KeywordReader(c, from: 3)
    return try temperatures(&reader)
  }

  fileprivate func seed(_ c: Command, _ i: Int) throws -> Int {
    let seed = try c.integer(i, "random seed")
    guard seed > 0 else { throw c.error("the random seed must be positive, got \(seed)") }
    return seed
  }

  /// `fix ID all langevin Tstart Tstop damp SEED [zero yes|no]`.
  fileprivate func langevin(_ c: Command) throws -> Fix {
    try c.expectCount(7, 9, usage: "fix ID all langevin Tstart Tstop damp SEED [zero yes|no]")
    let (start, stop, damp) = try temperatures(c)
    var zero = false
    var reader = KeywordReader(c, from: 7)
    while let keyword = reader.nextKeyword() {
      guard keyword == "zero" else { throw reader.unknownKeyword("zero", "unknown fix langevin keyword") }
      zero = try reader.yesNo()
    }
    return Langevin(startTemperature: start, stopTemperature: stop, damping: damp, seed: try seed(c, 6),
                    zeroNetForce: zero)
  }
}
