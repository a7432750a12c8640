/// `fix ID all nvt temp Tstart Tstop Tdamp [tchain N] [tloop N] [drag D]`: a Nosé–Hoover chain
/// integrated around the velocity-Verlet half steps exactly as LAMMPS's `FixNH` does it (the chain
/// is advanced a quarter step by Trotter splitting before the first half-kick and after the second),
/// with the target ramped from Tstart to Tstop over the run.
public final class NoseHooverChain: Fix {
  private var thermostat: TemperatureCoupling
  private let verlet = VelocityVerlet()
  private var currentTemperature = 0.0
  private var degreesOfFreedom = 0.0
  private var boltzmann = 0.0

  public init(startTemperature: Double, stopTemperature: Double, damping: Double, chainLength: Int = 3,
              loops: Int = 1, drag: Double = 0) {
    thermostat = TemperatureCoupling(start: startTemperature, stop: stopTemperature, damping: damping,
                                     chainLength: chainLength, loops: loops, drag: drag)
  }

  /// A temperature carried over from a restart: the chain's running value, which a fresh sum over
  /// the velocities would reproduce only to round-off.
  private var restoredTemperature: Double?

  public func setup(_ c: FixContext) {
    boltzmann = c.units.boltzmann
    currentTemperature = restoredTemperature ?? c.temperature()
    restoredTemperature = nil
    degreesOfFreedom = c.degreesOfFreedom
    thermostat.setup(c, degreesOfFreedom: degreesOfFreedom)
  }

  public func initialIntegrate(_ c: FixContext) {
    thermostat.updateTarget(c)
    thermostat.halfStep(c, temperature: &currentTemperature, degreesOfFreedom: degreesOfFreedom)
    verlet.initialIntegrate(c)
  }

  public func finalIntegrate(_ c: FixContext) {
    verlet.finalIntegrate(c)
    currentTemperature = c.temperature()
    degreesOfFreedom = c.degreesOfFreedom
    thermostat.halfStep(c, temperature: &currentTemperature, degreesOfFreedom: degreesOfFreedom)
  }

  public var restartState: [Double] { [Double(thermostat.chainLength), currentTemperature] + thermostat.chainState }

  public func restore(_ state: [Double]) throws {
    guard state.count >= 2, Int(state[0]) == thermostat.chainLength, thermostat.restoreChain(Array(state[2...])) else {
      throw FixStateError("the restart's chain does not match tchain \(thermostat.chainLength)")
    }
    restoredTemperature = state[1]
  }

  /// The chain's energy (Martyna, Tuckerman, Tobias & Klein 1996, eq. 2), LAMMPS `FixNH::compute_scalar`.
  public var coupledEnergy: Double { thermostat.energy(degreesOfFreedom: degreesOfFreedom, boltzmann: boltzmann) }
}
