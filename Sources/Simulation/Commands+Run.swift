import Dynamics
import InputDeck
import Output

extension Simulation {
  /// `unfix ID`.
  func unfix(_ c: Command) throws {
    try c.expectCount(1, usage: "unfix ID")
    guard let index = fixes.firstIndex(where: { $0.id == c.arguments[0] }) else {
      throw c.error("no fix with ID '\(c.arguments[0])'")
    }
    fixes.remove(at: index)
  }

  func timestepCommand(_ c: Command) throws {
    try c.expectCount(1, usage: "timestep DT")
    let dt = try c.double(0, "timestep")
    guard dt > 0 else { throw c.error("timestep must be positive, got \(dt)") }
    if dt != timestep ?? units.defaultTimestep {
      system.clock.timeOrigin = currentTime
      system.clock.timeOriginStep = step
    }
    timestep = dt
  }

  func thermoCommand(_ c: Command) throws {
    try c.expectCount(1, usage: "thermo N")
    let n = try c.integer(0, "thermo interval")
    guard n >= 0 else { throw c.error("thermo interval must be non-negative") }
    thermo.every = n
  }

  /// `thermo_style one|custom KEYWORDS…`.
  func thermoStyle(_ c: Command) throws {
    switch try c.word(0, "thermo style") {
    case "one":
      try c.expectCount(1, usage: "thermo_style one")
      thermo.keywords = ["step", "temp", "epair", "emol", "etotal", "press"]
    case "custom":
      let keywords = Array(c.arguments.dropFirst())
      guard !keywords.isEmpty else { throw c.error("expected at least one keyword after custom") }
      for k in keywords where ThermoFormat.column(k) == nil && parseFixReference(k) == nil && parseVariableReference(k) == nil {
        throw c.error("unknown thermo keyword '\(k)'")
      }
      thermo.keywords = keywords
    case let s: throw c.error("unsupported thermo style '\(s)' (one, custom)")
    }
  }

  /// `thermo_modify norm yes|no format int|float FMT lost error|warn|ignore flush yes|no`.
  func thermoModify(_ c: Command) throws {
    var reader = KeywordReader(c)
    while let keyword = reader.nextKeyword() {
      switch keyword {
      case "norm": thermo.normalize = try reader.yesNo()
      case "flush": thermo.flush = try reader.yesNo()
      case "lost": thermo.lostAtoms = try reader.choice(["error": .error, "warn": .warn, "ignore": .ignore])
      case "format":
        let integer = try reader.choice(["int": true, "float": false])
        let format = try reader.word("format string")
        guard let valid = ThermoFormat.validated(format, integer: integer) else {
          throw c.error("invalid \(integer ? "int" : "float") format '\(format)' (one %-conversion of kind \(integer ? "d" : "e, f or g"))")
        }
        if integer { thermo.format.integerFormat = valid } else { thermo.format.floatFormat = valid }
      default: throw reader.unknownKeyword("norm, format, lost, flush")
      }
    }
  }

  /// `run N [upto] [start S] [stop S] [pre yes|no] [post yes|no]` (LAMMPS `Run::command`): `upto`
  /// runs to step N; start/stop set the steps that ramped targets (thermostat and barostat
  /// set points) interpolate between, so one ramp spans several runs. `pre no` is accepted and the
  /// setup still done in full (LAMMPS allows skipping it only when it would change nothing);
  /// `post no` prints only the loop time.
  func run(_ c: Command) throws {
    var reader = KeywordReader(c, from: 1)
    var upto = false, start: Int?, stop: Int?, fullSummary = true
    while let keyword = reader.nextKeyword() {
      switch keyword {
      case "upto": upto = true
      case "start": start = try reader.integer("start step")
      case "stop": stop = try reader.integer("stop step")
      case "pre": _ = try reader.yesNo()
      case "post": fullSummary = try reader.yesNo()
      default: throw reader.unknownKeyword("upto, start, stop, pre, post")
      }
    }
    let n = try c.integer(0, "number of steps")
    if upto, n < step { throw c.error("run \(n) upto: the current step \(step) is already past it") }
    guard n >= 0 else { throw c.error("number of steps must be non-negative") }
    let steps = upto ? n - step : n
    guard steps <= Int.max - step else { throw c.error("\(steps) steps from step \(step) pass the largest step number") }
    if let start, start > step { throw c.error("start \(start) is after the run's first step \(step)") }
    if let start, start < 0 { throw c.error("start must be a step >= 0, got \(start)") }
    if let stop, stop < step + steps { throw c.error("stop \(stop) is before the run's last step \(step + steps)") }
    let span = RunSpan(steps: steps, rampStart: start ?? step, rampEnd: stop ?? step + steps, fullSummary: fullSummary)
    let b = try requireBox(c)
    if let t = masses.firstUnset { throw c.error("mass of atom type \(t) is not set") }
    let forceField = try makeForceField(c)
    _ = try thermoColumns(c)
    try execution.run(span, box: b, forceField: forceField, command: c, self)
  }
}

/// What one `run` covers: its steps, the steps a ramped target spans (`start`/`stop`), and whether
/// the full timing summary follows (`post`).
struct RunSpan {
  var steps: Int
  var rampStart: Int
  var rampEnd: Int
  var fullSummary = true
}
