import Foundation

/// `fix ID all nvt temp Tstart Tstop Tdamp [tchain N] [tloop N] [drag D]`: a Nosé–Hoover chain
/// integrated around the velocity-Verlet half steps exactly as LAMMPS's `FixNH` does it (the chain
/// is advanced a quarter step by Trotter splitting before the first half-kick and after the second),
/// with the target ramped from Tstart to Tstop over the run.
public final class NoseHooverChain: Fix {
  public let startTemperature, stopTemperature, damping: Double
  public let chainLength, loops: Int
  public let drag: Double
  private let verlet = VelocityVerlet()
  /// Chain positions, velocities (one extra, always 0, closes the chain), accelerations and masses.
  private var eta: [Double]
  private var etaDot: [Double]
  private var etaDotDot: [Double]
  private var etaMass: [Double]
  private var currentTemperature = 0.0
  private var targetTemperature = 0.0
  private var degreesOfFreedom = 0.0
  private var boltzmann = 0.0

  public init(startTemperature: Double, stopTemperature: Double, damping: Double, chainLength: Int = 3,
              loops: Int = 1, drag: Double = 0) {
    self.startTemperature = startTemperature
    self.stopTemperature = stopTemperature
    self.damping = damping
    self.chainLength = chainLength
    self.loops = loops
    self.drag = drag
    eta = [Double](repeating: 0, count: chainLength)
    etaDot = [Double](repeating: 0, count: chainLength + 1)
    etaDotDot = [Double](repeating: 0, count: chainLength)
    etaMass = [Double](repeating: 0, count: chainLength)
  }

  private var frequency: Double { 1 / damping }

  private func updateTarget(_ c: FixContext) {
    targetTemperature = startTemperature + c.runFraction * (stopTemperature - startTemperature)
  }

  private var kineticTarget: Double { degreesOfFreedom * boltzmann * targetTemperature }

  /// A temperature carried over from a restart: the chain's running value, which a fresh sum over
  /// the velocities would reproduce only to round-off.
  private var restoredTemperature: Double?

  public func setup(_ c: FixContext) {
    boltzmann = c.units.boltzmann
    currentTemperature = restoredTemperature ?? c.temperature()
    restoredTemperature = nil
    degreesOfFreedom = c.degreesOfFreedom
    updateTarget(c)
    updateMasses()
    for k in 1..<chainLength {
      etaDotDot[k] = (etaMass[k - 1] * etaDot[k - 1] * etaDot[k - 1] - boltzmann * targetTemperature) / etaMass[k]
    }
  }

  private func updateMasses() {
    let f2 = frequency * frequency
    etaMass[0] = degreesOfFreedom * boltzmann * targetTemperature / f2
    for k in 1..<chainLength { etaMass[k] = boltzmann * targetTemperature / f2 }
  }

  public func initialIntegrate(_ c: FixContext) {
    updateTarget(c)
    integrateChain(c)
    verlet.initialIntegrate(c)
  }

  public func finalIntegrate(_ c: FixContext) {
    verlet.finalIntegrate(c)
    currentTemperature = c.temperature()
    degreesOfFreedom = c.degreesOfFreedom
    integrateChain(c)
  }

  /// LAMMPS `FixNH::nhc_temp_integrate`: a half step of the chain, scaling velocities once per loop.
  private func integrateChain(_ c: FixContext) {
    let dt = c.timestep
    let (dthalf, dt4, dt8) = (0.5 * dt, 0.25 * dt, 0.125 * dt)
    let fraction = 1 / Double(loops)
    let dragFactor = 1 - dt * frequency * drag / Double(loops)
    updateMasses()
    etaDotDot[0] = etaMass[0] > 0 ? (degreesOfFreedom * boltzmann * currentTemperature - kineticTarget) / etaMass[0] : 0
    for _ in 0..<loops {
      for k in stride(from: chainLength - 1, to: 0, by: -1) {
        let expfac = exp(-fraction * dt8 * etaDot[k + 1])
        etaDot[k] *= expfac
        etaDot[k] += etaDotDot[k] * fraction * dt4
        etaDot[k] *= dragFactor
        etaDot[k] *= expfac
      }
      var expfac = exp(-fraction * dt8 * etaDot[1])
      etaDot[0] *= expfac
      etaDot[0] += etaDotDot[0] * fraction * dt4
      etaDot[0] *= dragFactor
      etaDot[0] *= expfac

      let scale = exp(-fraction * dthalf * etaDot[0])
      c.scaleVelocities(scale)
      // The temperature follows the scaling exactly; no need to sum it again.
      currentTemperature *= scale * scale
      etaDotDot[0] = etaMass[0] > 0 ? (degreesOfFreedom * boltzmann * currentTemperature - kineticTarget) / etaMass[0] : 0

      for k in 0..<chainLength { eta[k] += fraction * dthalf * etaDot[k] }

      etaDot[0] *= expfac
      etaDot[0] += etaDotDot[0] * fraction * dt4
      etaDot[0] *= expfac
      for k in 1..<chainLength {
        expfac = exp(-fraction * dt8 * etaDot[k + 1])
        etaDot[k] *= expfac
        etaDotDot[k] = (etaMass[k - 1] * etaDot[k - 1] * etaDot[k - 1] - boltzmann * targetTemperature) / etaMass[k]
        etaDot[k] += etaDotDot[k] * fraction * dt4
        etaDot[k] *= expfac
      }
    }
  }

  public var restartState: [Double] { [Double(chainLength), currentTemperature] + eta + etaDot }

  public func restore(_ state: [Double]) throws {
    guard state.count == 2 + 2 * chainLength + 1, Int(state[0]) == chainLength else {
      throw FixStateError("the restart's chain does not match tchain \(chainLength)")
    }
    restoredTemperature = state[1]
    eta = Array(state[2..<(2 + chainLength)])
    etaDot = Array(state[(2 + chainLength)...])
  }

  /// The chain's energy (Martyna, Tuckerman, Tobias & Klein 1996, eq. 2), LAMMPS `FixNH::compute_scalar`.
  public var coupledEnergy: Double {
    let kt = boltzmann * targetTemperature
    var energy = kineticTarget * eta[0] + 0.5 * etaMass[0] * etaDot[0] * etaDot[0]
    for k in 1..<chainLength { energy += kt * eta[k] + 0.5 * etaMass[k] * etaDot[k] * etaDot[k] }
    return energy
  }
}
