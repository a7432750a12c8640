import Dynamics
import Geometry
import Neighbors
import Output

/// What the commands set up for the runs to come: the force field, the fixes in their order, the
/// writers (thermo settings, dumps, restarts) and the neighbour-list settings. A run reads it; only
/// commands change it.
final class RunSetup {
  // Forces and neighbours.
  var pairStyle: PairStyle?
  /// The pair style made ready by the first run after it was (re)defined.
  var forceField: ForceField?
  var pairSettings = PairSettings()
  /// The pair style as the deck gave it, and the model file's checksum for a Deep Potential (restarts).
  var forceFieldDescription = ""
  var modelChecksum: String?
  var skin: Double?
  var rebuild: RebuildSettings?
  var neighborOneLimit = 2000

  // Dynamics.
  /// Fixes in the order they were defined, which is the order their hooks run in.
  var fixes: [(id: String, fix: Fix)] = []
  /// Style of each fix by ID, recorded in restarts so that a state goes back to the same kind of fix.
  var fixStyles: [String: String] = [:]

  // Output.
  var thermo = ThermoSettings()
  var dumps: [Dump] = []
  var restarts = RestartSchedule()
  /// IDs of `compute ID all pe/atom`, usable as `c_ID` in dumps.
  var energyComputes: Set<String> = []

  /// Effective rebuild settings: the deck's, or the unit system's defaults (skin 0.3 σ / 2 Å).
  func effectiveRebuild(_ units: UnitSystem) -> RebuildSettings {
    var settings = rebuild ?? RebuildSettings(skin: skin ?? units.defaultSkin)
    settings.skin = skin ?? units.defaultSkin
    return settings
  }
}
