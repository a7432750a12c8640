import Atoms
import Decomposition
import Dynamics
import Geometry

/// The physical system on this rank: the box (one copy, which a barostat changes during a run), the
/// processor grid that cuts it, this rank's atoms, the masses, the unit system, and the clock.
/// Commands create it; a run moves it forward.
final class System {
  var units = UnitSystem.lj
  /// Defined by `create_box`, `read_data` or `read_restart`.
  var boxState: BoxState?
  var grid: ProcessorGrid?
  let atoms = AtomStore()
  var masses = Masses(typeCount: 0)
  /// Atoms in the whole system, as created or read; the lost-atom check compares against it.
  var atomCount = 0
  var clock = Clock()
}

/// Steps and simulated time. Simulated time is LAMMPS's `atime + (step − atimestep) × dt`:
/// `timeOrigin` at step `timeOriginStep`, moved only when the timestep changes, so that a run
/// continued from a restart tells the same time, to the bit, as the run it continues.
struct Clock {
  var step = 0
  /// The deck's `timestep`; nil: the unit system's default.
  var timestep: Double?
  var timeOrigin = 0.0
  var timeOriginStep = 0

  func time(units: UnitSystem) -> Double {
    timeOrigin + Double(step - timeOriginStep) * (timestep ?? units.defaultTimestep)
  }
}
