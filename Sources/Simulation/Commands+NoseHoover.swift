import Dynamics
import InputDeck

extension Simulation {
  /// `fix ID all nvt|npt|nph …`, LAMMPS's `FixNH` family, keywords in any order as LAMMPS reads them:
  /// `temp Tstart Tstop Tdamp` (nvt, npt), `iso|aniso|tri Pstart Pstop Pdamp` and
  /// `x|y|z|yz|xz|xy Pstart Pstop Pdamp` (npt, nph), `tchain N`, `pchain N`, `tloop N`, `ploop N`,
  /// `drag D`, `couple none|xyz|xy|yz|xz`, `dilate all`, `flip yes|no`.
  func noseHoover(_ c: Command) throws -> Fix {
    let style = c.arguments[2]
    let usage = [
      "nvt": "fix ID all nvt temp Tstart Tstop Tdamp [tchain N] [tloop N] [drag D]",
      "npt": "fix ID all npt temp Tstart Tstop Tdamp iso|aniso|tri|x|y|z|yz|xz|xy Pstart Pstop Pdamp … [tchain N] "
        + "[pchain N] [tloop N] [ploop N] [drag D] [couple none|xyz|xy|yz|xz] [dilate all] [flip yes|no]",
      "nph": "fix ID all nph iso|aniso|tri|x|y|z|yz|xz|xy Pstart Pstop Pdamp … [pchain N] [ploop N] [drag D] "
        + "[couple none|xyz|xy|yz|xz] [dilate all] [flip yes|no]",
    ][style]!
    let components = ["x", "y", "z", "yz", "xz", "xy"]
    let box = style == "nvt" ? nil : try requireBox(c)
    var thermostat: ThermostatSettings?
    var pressure = BarostatSettings(xy: box?.xy ?? 0, xz: box?.xz ?? 0, yz: box?.yz ?? 0)
    var chains = (temperature: 3, pressure: 3), loops = (temperature: 1, pressure: 1), drag = 0.0
    var reader = KeywordReader(c, from: 3)
    while let keyword = reader.nextKeyword() {
      let values = (["temp", "iso", "aniso", "tri"] + components).contains(keyword) ? 3 : 1
      guard reader.remainingCount >= values else { throw c.error("'\(keyword)' needs \(values) value(s): \(usage)") }
      switch keyword {
      case "temp":
        let (start, stop, damp) = try temperatures(&reader)
        guard start > 0, stop > 0 else { throw c.error("fix \(style) needs positive temperatures") }
        thermostat = ThermostatSettings(startTemperature: start, stopTemperature: stop, damping: damp)
      case "iso", "aniso", "tri":
        pressure.setAll(keyword, try pressureTarget(&reader))
      case let component where components.contains(component):
        pressure.set(component: components.firstIndex(of: component)!, try pressureTarget(&reader))
      case "tchain": chains.temperature = try reader.positiveInteger("tchain")
      case "pchain": chains.pressure = try reader.count("chain length")
      case "tloop": loops.temperature = try reader.positiveInteger("tloop")
      case "ploop": loops.pressure = try reader.positiveInteger("ploop")
      case "drag": drag = try reader.number("drag factor", .nonNegative)
      case "couple":
        let word = try reader.word("coupling")
        guard let chosen = BarostatSettings.Coupling(rawValue: word) else {
          throw c.error("couple must be none, xyz, xy, yz or xz, got '\(word)'")
        }
        pressure.coupling = chosen
      case "dilate":
        let group = try reader.word("group")
        guard group == "all" else {
          throw c.error("only 'dilate all' is supported (dilating a group, 'dilate \(group)', is not)")
        }
      case "flip":
        let word = try reader.word("yes or no")
        guard let flips = ["yes": true, "no": false][word] else { throw c.error("flip must be yes or no, got '\(word)'") }
        pressure.flips = flips
      case "mtk", "nreset", "scalexy", "scalexz", "scaleyz", "fixedpoint",
           "ptemp", "update", "disc", "ext":
        throw c.error("fix \(style) keyword '\(keyword)' is not supported: \(usage)")
      case let w: throw c.error("unknown fix \(style) keyword '\(w)': \(usage)")
      }
    }

    switch style {
    case "nvt":
      if pressure.isActive { throw c.error("pressure control (iso, aniso, tri, x, y, z, yz, xz, xy) needs fix npt or nph") }
      guard let t = thermostat else { throw c.error("expected '\(usage)'") }
      return NoseHooverChain(startTemperature: t.startTemperature, stopTemperature: t.stopTemperature, damping: t.damping,
                             chainLength: chains.temperature, loops: loops.temperature, drag: drag)
    case "nph" where thermostat != nil:
      throw c.error("fix nph takes no 'temp' (temperature and pressure control together is fix npt)")
    case "npt" where thermostat == nil:
      throw c.error("fix npt needs 'temp Tstart Tstop Tdamp': \(usage)")
    default: break
    }
    guard pressure.isActive else {
      throw c.error("fix \(style) needs one of iso, aniso, tri, x, y, z, yz, xz or xy: \(usage)")
    }
    guard let box, box.periodic.allSatisfy({ $0 }) else {
      throw c.error("fix \(style) changes the box, whose x, y and z must all be periodic (boundary p p p)")
    }
    if pressure.isTriclinic && !box.isTriclinic {
      throw c.error("'tri', 'yz', 'xz' and 'xy' need a triclinic box (region prism, or xy xz yz in the data file), as in LAMMPS")
    }
    if let problem = pressure.couplingError { throw c.error(problem) }
    pressure.chainLength = chains.pressure
    pressure.loops = loops.pressure
    thermostat?.chainLength = chains.temperature
    thermostat?.loops = loops.temperature
    return NoseHooverBarostat(barostat: pressure, thermostat: thermostat, drag: drag, box: box)
  }

  /// `Pstart Pstop Pdamp` after a pressure keyword.
  private func pressureTarget(_ reader: inout KeywordReader) throws -> BarostatSettings.Target {
    let start = try reader.double("Pstart"), stop = try reader.double("Pstop")
    let damp = try reader.double("Pdamp")
    guard damp > 0 else { throw reader.error("Pdamp must be positive, got \(damp)") }
    return BarostatSettings.Target(start: start, stop: stop, damping: damp)
  }
}
