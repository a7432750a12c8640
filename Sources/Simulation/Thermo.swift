import Atoms
import Dynamics
import Neighbors
import Geometry
import InputDeck
import Output
import Potentials

/// The globally reduced thermodynamic state at one step: what every thermo keyword is made of.
struct ThermoState {
  var step: Int
  var atoms: Int
  var potentialEnergy: Double
  /// Kinetic tensor Σ m v⊗v·mvv2e, LAMMPS order xx yy zz xy xz yz.
  var kinetic: [Double]
  /// Virial W = Σ r⊗f, same order.
  var virial: [Double]
  var box: Box
  var totalMass: Double
  var elapsedSteps: Int
  var time: Double
  var cpu: Double
  var tpcpu: Double
  var spcpu: Double
  var neighborBuilds: Int
  var dangerousBuilds: Int
  var overflow: Int
  /// Energy the thermostats have exchanged (`ecouple`).
  var coupledEnergy: Double
}

extension ThermoState {
  /// The value of one thermo keyword, or nil when unknown; `fixOutput` answers `f_ID` keywords.
  func value(_ keyword: String, units: UnitSystem, normalize: Bool, fixOutput: (String) -> Double?) -> Double? {
    let s = self
    let dof = degreesOfFreedom(atomCount: s.atoms)
    let twiceKinetic = s.kinetic[0] + s.kinetic[1] + s.kinetic[2]
    let temperature = dof > 0 ? twiceKinetic / (dof * units.boltzmann) : 0
    let norm = normalize && s.atoms > 0 ? 1 / Double(s.atoms) : 1
    let volume = s.box.volume
    let pressureScale = units.nktv2p / volume
    func pressureComponent(_ k: Int) -> Double { (s.kinetic[k] + s.virial[k]) * pressureScale }
    // LAMMPS's scalar pressure uses dof·kB·T for the kinetic part: equal to 2 KE here.
    let pressure = (dof * units.boltzmann * temperature + s.virial[0] + s.virial[1] + s.virial[2]) / 3 * pressureScale
    let kinetic = 0.5 * dof * units.boltzmann * temperature
    switch keyword {
    case "step": return Double(s.step)
    case "elapsed": return Double(s.elapsedSteps)
    case "time": return s.time
    case "atoms": return Double(s.atoms)
    case "temp": return temperature
    case "pe", "epair", "evdwl": return s.potentialEnergy * norm
    case "emol": return 0
    case "ke": return kinetic * norm
    case "etotal": return (s.potentialEnergy + kinetic) * norm
    case "ecouple": return s.coupledEnergy * norm
    case "econserve": return (s.potentialEnergy + kinetic + s.coupledEnergy) * norm
    case "enthalpy": return (s.potentialEnergy + kinetic + pressure * volume / units.nktv2p) * norm
    case "press": return pressure
    case "pxx": return pressureComponent(0)
    case "pyy": return pressureComponent(1)
    case "pzz": return pressureComponent(2)
    case "pxy": return pressureComponent(3)
    case "pxz": return pressureComponent(4)
    case "pyz": return pressureComponent(5)
    case "vol": return volume
    case "density": return units.mv2d * s.totalMass / volume
    case "lx": return s.box.length.x
    case "ly": return s.box.length.y
    case "lz": return s.box.length.z
    case "xy": return s.box.xy
    case "xz": return s.box.xz
    case "yz": return s.box.yz
    case "cpu": return s.cpu
    case "tpcpu": return s.tpcpu
    case "spcpu": return s.spcpu
    case "nbuild": return Double(s.neighborBuilds)
    case "ndanger": return Double(s.dangerousBuilds)
    case "dpoverflow": return Double(s.overflow)
    default: return fixOutput(keyword)
    }
  }
}

/// `f_ID` or `f_ID[k]` of one of `fixes`: its value now, nil when no such fix or output.
func fixOutput(_ keyword: String, _ fixes: [(id: String, fix: Fix)]) -> Double? {
  guard let (id, index) = parseFixReference(keyword), let fix = fixes.first(where: { $0.id == id })?.fix else { return nil }
  return fix.output(index)
}

/// `v_NAME` → NAME; nil for anything else.
func parseVariableReference(_ keyword: String) -> String? {
  keyword.hasPrefix("v_") && keyword.count > 2 ? String(keyword.dropFirst(2)) : nil
}

/// `f_ID` → (ID, nil), `f_ID[k]` → (ID, k); nil for anything else.
func parseFixReference(_ keyword: String) -> (String, Int?)? {
  guard keyword.hasPrefix("f_"), keyword.count > 2 else { return nil }
  let body = keyword.dropFirst(2)
  guard let open = body.firstIndex(of: "[") else { return (String(body), nil) }
  guard body.hasSuffix("]"), let k = Int(body[body.index(after: open)..<body.index(before: body.endIndex)]), k > 0,
        open > body.startIndex else { return nil }
  return (String(body[..<open]), k)
}

extension Simulation {
  /// The thermo columns of the next run; `f_ID` columns need their fix defined by now, `v_NAME`
  /// columns their variable (LAMMPS checks at the run's setup too).
  func thermoColumns(_ c: Command) throws -> [ThermoColumn] {
    try thermo.keywords.map { keyword in
      if let column = ThermoFormat.column(keyword) { return column }
      if let name = parseVariableReference(keyword) {
        guard let kind = variables.kind(of: name) else { throw c.error("thermo keyword '\(keyword)' names no defined variable") }
        guard kind == .equal else { throw c.error("thermo keyword '\(keyword)': the variable must be equal-style, as LAMMPS requires") }
        return ThermoColumn(keyword: keyword, header: keyword, isInteger: false)
      }
      guard let (id, index) = parseFixReference(keyword), let entry = fixes.first(where: { $0.id == id }) else {
        throw c.error("thermo keyword '\(keyword)' names no defined fix")
      }
      guard entry.fix.output(index) != nil else {
        throw c.error("thermo keyword '\(keyword)': fix \(id) (\(setup.fixStyles[id] ?? "?")) has no such output (fix balance: f_ID, f_ID[1..3])")
      }
      return ThermoColumn(keyword: keyword, header: keyword, isInteger: false)
    }
  }

  /// A `v_NAME` thermo column: the variable evaluated with the thermo keywords of the row being
  /// printed (LAMMPS evaluates them at that step too).
  func thermoVariable(_ name: String, at state: ThermoState, for run: Command) throws -> Double {
    let saved = lastThermo
    lastThermo = state
    defer { lastThermo = saved }
    return try variables.numericValue(of: name, at: run.location)
  }

  /// Thermo keywords as values for equal-style formulas (after the first run).
  func keywordValue(_ name: String) -> Double? {
    if name == "step" { return Double(step) }
    guard let s = lastThermo else { return nil }
    return s.value(name, units: units, normalize: thermo.normalize ?? (units.name == "lj"),
                   fixOutput: { fixOutput($0, fixes) })
  }
}
