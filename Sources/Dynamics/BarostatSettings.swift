/// What `fix npt` and `fix nph` control, as LAMMPS's keywords set it up: per box component (Voigt
/// order xx yy zz yz xz xy) a target stress ramped from Pstart to Pstop and a damping time, or none
/// where that component of the box is left alone. `iso`, `aniso` and `tri` set the three normal
/// components (and for `tri` the shear ones, towards zero); `x y z yz xz xy` set one each, as LAMMPS
/// does, later keywords overriding earlier ones. `couple` chooses which normal components share one
/// barostat variable.
public struct BarostatSettings: Sendable, Equatable {
  public enum Coupling: String, Sendable { case none, xyz, xy, yz, xz }

  public struct Target: Sendable, Equatable {
    public var start, stop, damping: Double
    public init(start: Double, stop: Double, damping: Double) {
      self.start = start
      self.stop = stop
      self.damping = damping
    }
  }

  /// Per component, nil where the box does not follow the barostat (LAMMPS `p_flag`).
  public var targets: [Target?] = Array(repeating: nil, count: 6)
  public var coupling = Coupling.none
  /// Whether a per-component keyword was given (LAMMPS `deviatoric_flag`): the targets may differ,
  /// and the barostat feels the deviatoric stress relative to the reference cell.
  public var deviatoric = false
  /// Tilt factors carried along when their box length stretches (LAMMPS scalexy/scalexz/scaleyz: on
  /// for a tilted box, off for `tri` and for a tilt with its own target).
  public var scalesXY = false, scalesXZ = false, scalesYZ = false
  /// Links of the chain thermostatting the barostat (`pchain`, 0 for none) and its Trotter loops (`ploop`).
  public var chainLength = 3
  public var loops = 1
  /// `flip yes|no`: whether a box whose tilt has passed 0.6 of its length is flipped (LAMMPS default yes).
  public var flips = true

  /// The settings before any pressure keyword, for a box with these tilts.
  public init(xy: Double, xz: Double, yz: Double) {
    scalesXY = xy != 0
    scalesXZ = xz != 0
    scalesYZ = yz != 0
  }

  /// LAMMPS's `iso`, `aniso` and `tri`.
  public mutating func setAll(_ keyword: String, _ target: Target) {
    for i in 0..<3 { targets[i] = target }
    switch keyword {
    case "iso": coupling = .xyz
    case "aniso": coupling = .none
    default:
      coupling = .none
      (scalesXY, scalesXZ, scalesYZ) = (false, false, false)
      for i in 3..<6 { targets[i] = Target(start: 0, stop: 0, damping: target.damping) }
    }
  }

  /// LAMMPS's `x y z yz xz xy`.
  public mutating func set(component i: Int, _ target: Target) {
    targets[i] = target
    deviatoric = true
    if i == 3 { scalesYZ = false }
    if i == 4 { scalesXZ = false }
    if i == 5 { scalesXY = false }
  }

  public var controlled: [Bool] { targets.map { $0 != nil } }
  public var isActive: Bool { controlled.contains(true) }
  /// A shear component is controlled: six barostat variables (LAMMPS `pstyle` TRICLINIC).
  public var isTriclinic: Bool { controlled[3...].contains(true) }

  /// LAMMPS's checks: coupled components need the same settings.
  public var couplingError: String? {
    let pairs: [Coupling: [Int]] = [.xyz: [0, 1, 2], .xy: [0, 1], .yz: [1, 2], .xz: [0, 2]]
    guard let members = pairs[coupling] else { return nil }
    let coupled = members.map { targets[$0] }
    if coupled.contains(nil) { return "couple \(coupling) needs a target for each of its components" }
    if Set(coupled.map { "\($0!.start) \($0!.stop) \($0!.damping)" }).count > 1 {
      return "couple \(coupling) needs the same Pstart, Pstop and Pdamp for its components"
    }
    return nil
  }
}

/// The particle thermostat of `fix npt` (`temp Tstart Tstop Tdamp`, `tchain`, `tloop`).
public struct ThermostatSettings: Sendable, Equatable {
  public var startTemperature, stopTemperature, damping: Double
  public var chainLength = 3
  public var loops = 1

  public init(startTemperature: Double, stopTemperature: Double, damping: Double) {
    self.startTemperature = startTemperature
    self.stopTemperature = stopTemperature
    self.damping = damping
  }
}
