/// What `fix npt` and `fix nph` control, as LAMMPS's `iso`, `aniso` and `tri` keywords set it up: the
/// three normal stresses towards one target pressure, and for `tri` also the three shear stresses
/// towards zero. `couple` chooses which normal components share one barostat variable.
public struct BarostatSettings: Sendable, Equatable {
  public enum Style: String, Sendable { case iso, aniso, tri }
  public enum Coupling: String, Sendable { case none, xyz, xy, yz, xz }

  public var style: Style
  public var startPressure, stopPressure, damping: Double
  /// `iso` couples x, y and z; `aniso` and `tri` none (a later `couple` keyword overrides either).
  public var coupling: Coupling
  /// Links of the chain thermostatting the barostat (`pchain`, 0 for none) and its Trotter loops (`ploop`).
  public var chainLength = 3
  public var loops = 1

  public init(style: Style, startPressure: Double, stopPressure: Double, damping: Double) {
    self.style = style
    self.startPressure = startPressure
    self.stopPressure = stopPressure
    self.damping = damping
    coupling = style == .iso ? .xyz : .none
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
