/// LAMMPS unit systems: the constants the thermo output and the integrator need.
public struct UnitSystem: Sendable, Equatable {
  public var name: String
  /// k_B in energy/temperature units.
  public var boltzmann: Double
  /// Converts mass·velocity² to energy (LAMMPS `mvv2e`).
  public var mvv2e: Double
  /// Converts force/mass·time to velocity (LAMMPS `ftm2v`).
  public var ftm2v: Double
  /// Converts energy/volume to pressure units (LAMMPS `nktv2p`).
  public var nktv2p: Double
  public var defaultTimestep: Double
  public var defaultSkin: Double
  /// Converts mass/volume to density units printed by `density` (LAMMPS `mv2d`).
  public var mv2d: Double

  public static let lj = UnitSystem(name: "lj", boltzmann: 1, mvv2e: 1, ftm2v: 1, nktv2p: 1,
                                    defaultTimestep: 0.005, defaultSkin: 0.3, mv2d: 1)
  /// metal: Å, eV, ps, g/mol, K, bar. Constants exactly as LAMMPS `update.cpp` sets them.
  public static let metal = UnitSystem(name: "metal", boltzmann: 8.617343e-5, mvv2e: 1.0364269e-4,
                                       ftm2v: 1 / 1.0364269e-4, nktv2p: 1.6021765e6,
                                       defaultTimestep: 0.001, defaultSkin: 2.0, mv2d: 1 / 0.602214129)

  public static func named(_ name: String) -> UnitSystem? {
    switch name {
    case "lj": return .lj
    case "metal": return .metal
    default: return nil
    }
  }
}
