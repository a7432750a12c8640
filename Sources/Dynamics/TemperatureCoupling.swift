/// The particle thermostat of LAMMPS's `FixNH` — all of `fix nvt`, and the `temp` part of `fix npt`:
/// a Nosé–Hoover chain on the atoms' kinetic energy, its target ramped from Tstart to Tstop over the
/// run, its masses following the target (LAMMPS's default `eta_mass_flag`).
struct TemperatureCoupling {
  let start, stop, damping: Double
  let loops: Int
  let drag: Double
  private var chain: ThermostatChain
  private(set) var target = 0.0

  init(start: Double, stop: Double, damping: Double, chainLength: Int, loops: Int, drag: Double) {
    self.start = start
    self.stop = stop
    self.damping = damping
    self.loops = loops
    self.drag = drag
    chain = ThermostatChain(length: chainLength)
  }

  private var frequency: Double { 1 / damping }

  var chainLength: Int { chain.length }
  var chainState: [Double] { chain.state }
  mutating func restoreChain(_ state: [Double]) -> Bool { chain.restore(state) }

  /// LAMMPS `compute_temp_target`.
  mutating func updateTarget(_ c: FixContext) {
    target = start + c.runFraction * (stop - start)
  }

  private mutating func updateMasses(degreesOfFreedom dof: Double, boltzmann: Double) {
    let f2 = frequency * frequency
    chain.setMasses(first: dof * boltzmann * target / f2, rest: boltzmann * target / f2)
  }

  mutating func setup(_ c: FixContext, degreesOfFreedom dof: Double) {
    updateTarget(c)
    updateMasses(degreesOfFreedom: dof, boltzmann: c.units.boltzmann)
    chain.updateLinkForces(kT: c.units.boltzmann * target)
  }

  /// LAMMPS `nhc_temp_integrate`: half a step of the chain, scaling the atoms' velocities;
  /// `temperature` follows the scaling exactly, without summing the kinetic energy again.
  mutating func halfStep(_ c: FixContext, temperature: inout Double, degreesOfFreedom dof: Double) {
    let kB = c.units.boltzmann
    updateMasses(degreesOfFreedom: dof, boltzmann: kB)
    var current = temperature
    chain.halfStep(timestep: c.timestep, loops: loops, dragFactor: 1 - c.timestep * frequency * drag / Double(loops),
                   kinetic: dof * kB * current, target: dof * kB * target, kT: kB * target) { factor in
      c.scaleVelocities(factor)
      current *= factor * factor
      return dof * kB * current
    }
    temperature = current
  }

  /// The chain's energy, its share of `ecouple`.
  func energy(degreesOfFreedom dof: Double, boltzmann: Double) -> Double {
    chain.energy(firstCoupling: dof * boltzmann * target, kT: boltzmann * target)
  }
}
