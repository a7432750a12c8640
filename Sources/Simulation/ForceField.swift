import Atoms
import Communication
import Decomposition
import Output
import Potentials

/// A pair style made ready for runs: the potential, and what its style adds around each evaluation and
/// to the run's output. The step loop calls the hooks without knowing the style.
struct ForceField {
  let potential: Potential
  /// Told the step before each evaluation (a Deep Potential's ensemble evaluates on its schedule).
  var willCompute: (Int) -> Void = { _ in }
  /// After ghost forces were folded into their owners and before any fix sees them (the ensemble's
  /// deviation statistics, which compare whole forces).
  var didFoldForces: (Int, AtomStore, HaloExchange, Communicator) throws -> Void = { _, _, _, _ in }
  /// Outputs the style adds to every run (the model-deviation file).
  var writers: [Writer] = []
  /// What `tessera check` prints about the style beyond its cutoff (a model's type map, rcut, sel).
  var planDescription: [String] = []
}
