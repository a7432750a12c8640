import Foundation
import Geometry

/// `fix ID all npt temp Tstart Tstop Tdamp iso|aniso|tri Pstart Pstop Pdamp …` and `fix ID all nph
/// iso|aniso|tri Pstart Pstop Pdamp …`: the Martyna–Tobias–Klein barostat (with, for npt, the
/// Nosé–Hoover chain thermostat) exactly as LAMMPS's `FixNH` integrates it.
///
/// Each step is a Trotter splitting around velocity Verlet: the barostat's chain, the thermostat's
/// chain and the barostat velocity ω̇ advance half a step and scale the atoms' velocities; the atoms
/// are kicked; the box moves half a step, the atoms drift, the box moves the other half (atoms keep
/// their fractional coordinates: `dilate all`); after the forces the same in reverse. The pressure
/// driving ω̇ is the current kinetic part plus the virial of the last force evaluation, and both
/// targets are ramped over the run. Components are in LAMMPS's Voigt order: xx yy zz yz xz xy.
///
/// A box whose tilts can change (`tri`, a shear target, or tilts that scale with their lengths) is
/// flipped on rebuild steps once a tilt passes 0.6 of its box length (`flip yes`, LAMMPS's default);
/// the barostat goes on with the flipped cell (its strain rates, reference cell and volume stay), as
/// LAMMPS's does. Any tilt beyond 1.5 box lengths stops the run, flipped or not.
public final class NoseHooverBarostat: Fix {
  /// How many independent barostat variables there are (LAMMPS `pstyle`).
  private enum Mode { case isotropic, anisotropic, triclinic }

  public let barostat: BarostatSettings
  private let mode: Mode
  private var motion: BoxMotion
  private var thermostat: TemperatureCoupling?
  private var pressureChain: ThermostatChain?
  private let drag: Double
  /// Whether this fix flips the box (LAMMPS sets `pre_exchange` up only where tilts can change).
  private let flipsBox: Bool

  private var strainRate = [Double](repeating: 0, count: 6)  // ω̇
  private var barostatMass = [Double](repeating: 0, count: 6)  // W
  /// The target of the normal stresses (LAMMPS `p_hydro`); `tri` drives the shear stresses to zero.
  private var hydrostaticTarget = 0.0
  private var currentPressure = [Double](repeating: 0, count: 6)
  /// Σ m v⊗v (xx yy zz xy xz yz) at the last pressure evaluation, for the anisotropic MTK term.
  private var kinetic = [Double](repeating: 0, count: 6)
  /// All ranks' virial of the last force evaluation.
  private var virial = InlineArray<6, Double>(repeating: 0)
  /// The MTK term that couples the atoms' velocities to the volume change (LAMMPS `mtk_term2`).
  private var volumeCoupling = 0.0
  private var currentTemperature = 0.0
  private var degreesOfFreedom = 0.0
  private var boltzmann = 0.0
  private var nktv2p = 1.0
  private var atomCount = 0
  private var volume = 0.0
  /// The box as this fix last saw it, for the strain energy.
  private var currentBox: Box?
  /// Volume when the fix first ran (LAMMPS `vol0`), the zero of the P·V term of the energy.
  private var referenceVolume: Double?
  /// fix nph: the temperature when it first ran (LAMMPS `t0`), which sets the barostat's masses.
  private var initialTemperature: Double?

  public init(barostat: BarostatSettings, thermostat: ThermostatSettings?, drag: Double, box: Box) {
    self.barostat = barostat
    self.drag = drag
    let triclinic = barostat.isTriclinic
    mode = triclinic ? .triclinic : barostat.coupling == .xyz ? .isotropic : .anisotropic
    motion = BoxMotion(controlled: barostat.controlled, tiltsEvolve: triclinic,
                       scalesXY: barostat.scalesXY, scalesXZ: barostat.scalesXZ, scalesYZ: barostat.scalesYZ,
                       fixedPoint: 0.5 * (box.lo + box.hi))
    frequencies = barostat.targets.map { $0.map { 1 / $0.damping } ?? 0 }
    if let t = thermostat {
      self.thermostat = TemperatureCoupling(start: t.startTemperature, stop: t.stopTemperature, damping: t.damping,
                                            chainLength: t.chainLength, loops: t.loops, drag: drag)
    }
    if barostat.chainLength > 0 { pressureChain = ThermostatChain(length: barostat.chainLength) }
    flipsBox = barostat.flips && (triclinic || box.xy != 0 || box.xz != 0 || box.yz != 0)
  }

  private var controlled: [Bool] { motion.controlled }
  /// 1 / Pdamp per component (0 where not controlled), and their maximum (LAMMPS `p_freq_max`),
  /// which sets the masses of the barostat's chain and its drag.
  private let frequencies: [Double]
  private var frequency: Double { frequencies.max()! }
  /// Each component's target now (LAMMPS `p_target`).
  private var targetPressure = [Double](repeating: 0, count: 6)
  /// Inverse of the cell when the fix first ran (LAMMPS `h0_inv`, Voigt order), the reference of
  /// the deviatoric stress.
  private var referenceInverseCell: [Double]?
  /// LAMMPS `sigma`: vol0 · h0⁻¹ (targets − hydrostatic target) h0⁻ᵀ, upper triangle in Voigt order.
  private var deviatoricStress = [Double](repeating: 0, count: 6)
  /// Barostatted box lengths (LAMMPS `pdim`).
  private var normalDimensions: Int { controlled[0..<3].filter { $0 }.count }

  /// The temperature that sets the barostat's masses and its chain's target (LAMMPS `t_target`).
  private var barostatTemperature: Double { thermostat?.target ?? initialTemperature ?? 0 }

  public func setup(_ c: FixContext) {
    boltzmann = c.units.boltzmann
    nktv2p = c.units.nktv2p
    atomCount = c.atomCount
    currentTemperature = restoredTemperature ?? c.temperature()
    restoredTemperature = nil
    degreesOfFreedom = c.degreesOfFreedom
    volume = c.boxState.box.volume
    currentBox = c.boxState.box
    if referenceVolume == nil { referenceVolume = volume }
    if referenceInverseCell == nil {
      let g = NoseHooverBarostat.inverseCell(c.boxState.box)
      referenceInverseCell = [g.0, g.1, g.2, g.3, g.4, g.5]
    }
    if thermostat != nil {
      thermostat!.setup(c, degreesOfFreedom: degreesOfFreedom)
    } else if initialTemperature == nil {
      initialTemperature = currentTemperature
    }
    updateTargetPressure(c)
    reduceVirial(c)

    let kT = boltzmann * barostatTemperature
    let nkT = Double(atomCount + 1) * kT
    for i in 0..<6 where controlled[i] { barostatMass[i] = nkT / (frequencies[i] * frequencies[i]) }
    pressureChain?.setMasses(first: boltzmann * barostatTemperature / (frequency * frequency),
                             rest: boltzmann * barostatTemperature / (frequency * frequency))
    pressureChain?.updateLinkForces(kT: kT)
  }

  public func initialIntegrate(_ c: FixContext) throws {
    integratePressureChain(c)
    if thermostat != nil {
      thermostat!.updateTarget(c)
      thermostat!.halfStep(c, temperature: &currentTemperature, degreesOfFreedom: degreesOfFreedom)
    }
    // The thermostat changed the kinetic part; the virial is still the last force evaluation's.
    measurePressure(c, temperature: c.temperature())
    updateTargetPressure(c)
    advanceStrainRate(c)
    try scaleKickAndDrift(c)
  }

  /// LAMMPS `FixNH::pre_exchange`: flips a box skewed past the threshold and re-expresses the owned
  /// atoms' image flags in the new edge vectors; the rebuild that follows wraps the atoms into the
  /// new box and moves them to their new owners.
  public func preExchange(_ c: FixContext) {
    guard flipsBox, let flip = BoxFlip(c.boxState.box) else { return }
    c.boxState.box = flip.box
    currentBox = flip.box
    for i in 0..<c.atoms.ownedCount { c.atoms.setImage(i, flip.image(c.atoms.imageOf(i))) }
  }

  public func finalIntegrate(_ c: FixContext) {
    currentTemperature = kickAndScale(c)
    degreesOfFreedom = c.degreesOfFreedom
    reduceVirial(c)
    measurePressure(c, temperature: currentTemperature, kineticMeasured: true)
    advanceStrainRate(c)
    thermostat?.halfStep(c, temperature: &currentTemperature, degreesOfFreedom: degreesOfFreedom)
    integratePressureChain(c)
  }

  private func reduceVirial(_ c: FixContext) {
    virial = c.localVirial
    c.comm.allReduce(&virial, .sum)
  }

  /// LAMMPS `compute_press_target`: each target ramped over the run, the mean of the normal ones the
  /// hydrostatic target (summed and divided as LAMMPS does, to the last bit), and with per-component
  /// targets the deviatoric stress.
  private func updateTargetPressure(_ c: FixContext) {
    hydrostaticTarget = 0
    for i in 0..<6 {
      guard let target = barostat.targets[i], i < 3 || mode == .triclinic else { continue }
      targetPressure[i] = target.start + c.runFraction * (target.stop - target.start)
      if i < 3 { hydrostaticTarget += targetPressure[i] }
    }
    if normalDimensions > 0 { hydrostaticTarget /= Double(normalDimensions) }
    if barostat.deviatoric { updateDeviatoricStress() }
  }

  /// LAMMPS `Domain::h_inv` of a box, Voigt order.
  private static func inverseCell(_ box: Box) -> (Double, Double, Double, Double, Double, Double) {
    let (h0, h1, h2, h3, h4, h5) = (box.length.x, box.length.y, box.length.z, box.yz, box.xz, box.xy)
    return (1 / h0, 1 / h1, 1 / h2, -h3 / (h1 * h2), (h3 * h5 - h1 * h4) / (h0 * h1 * h2), -h5 / (h0 * h1))
  }

  /// LAMMPS `compute_sigma` (without `nreset`).
  private func updateDeviatoricStress() {
    guard let g = referenceInverseCell, let v0 = referenceVolume else { return }
    let p = targetPressure, ph = hydrostaticTarget
    let (p0, p1, p2) = (p[0] - ph, p[1] - ph, p[2] - ph)
    deviatoricStress[0] = v0 * (g[0] * (p0 * g[0] + p[5] * g[5] + p[4] * g[4])
      + g[5] * (p[5] * g[0] + p1 * g[5] + p[3] * g[4]) + g[4] * (p[4] * g[0] + p[3] * g[5] + p2 * g[4]))
    deviatoricStress[1] = v0 * (g[1] * (p1 * g[1] + p[3] * g[3]) + g[3] * (p[3] * g[1] + p2 * g[3]))
    deviatoricStress[2] = v0 * (g[2] * (p2 * g[2]))
    deviatoricStress[3] = v0 * (g[1] * (p[3] * g[2]) + g[3] * (p2 * g[2]))
    deviatoricStress[4] = v0 * (g[0] * (p[4] * g[2]) + g[5] * (p[3] * g[2]) + g[4] * (p2 * g[2]))
    deviatoricStress[5] = v0 * (g[0] * (p[5] * g[1] + p[4] * g[3]) + g[5] * (p1 * g[1] + p[3] * g[3])
      + g[4] * (p[3] * g[1] + p2 * g[3]))
  }

  /// LAMMPS `compute_deviatoric`: h σ hᵀ for the current cell, the deviatoric force on ω̇.
  private func deviatoricForce(_ box: Box) -> [Double] {
    let h = [box.length.x, box.length.y, box.length.z, box.yz, box.xz, box.xy], s = deviatoricStress
    return [
      h[0] * (s[0] * h[0] + s[5] * h[5] + s[4] * h[4]) + h[5] * (s[5] * h[0] + s[1] * h[5] + s[3] * h[4])
        + h[4] * (s[4] * h[0] + s[3] * h[5] + s[2] * h[4]),
      h[1] * (s[1] * h[1] + s[3] * h[3]) + h[3] * (s[3] * h[1] + s[2] * h[3]),
      h[2] * (s[2] * h[2]),
      h[1] * (s[3] * h[2]) + h[3] * (s[2] * h[2]),
      h[0] * (s[4] * h[2]) + h[5] * (s[3] * h[2]) + h[4] * (s[2] * h[2]),
      h[0] * (s[5] * h[1] + s[4] * h[3]) + h[5] * (s[1] * h[1] + s[3] * h[3]) + h[4] * (s[3] * h[1] + s[2] * h[3]),
    ]
  }

  /// LAMMPS `compute_strain_energy`: ½ Tr(σ h hᵀ).
  private func strainEnergy(_ box: Box) -> Double {
    let h = [box.length.x, box.length.y, box.length.z, box.yz, box.xz, box.xy], s = deviatoricStress
    let d0 = s[0] * (h[0] * h[0] + h[5] * h[5] + h[4] * h[4]) + s[5] * (h[1] * h[5] + h[3] * h[4]) + s[4] * (h[2] * h[4])
    let d1 = s[5] * (h[5] * h[1] + h[4] * h[3]) + s[1] * (h[1] * h[1] + h[3] * h[3]) + s[3] * (h[2] * h[3])
    let d2 = s[4] * (h[4] * h[2]) + s[3] * (h[3] * h[2]) + s[2] * (h[2] * h[2])
    return 0.5 * (d0 + d1 + d2) / nktv2p
  }

  /// LAMMPS's pressure compute and `couple()`: the scalar pressure (isotropic, from the temperature)
  /// or the tensor (kinetic tensor now), with the virial of the last force evaluation, then the
  /// coupled normal components averaged.
  /// `kineticMeasured`: `kinetic` already holds the tensor of the current velocities.
  private func measurePressure(_ c: FixContext, temperature: @autoclosure () -> Double, kineticMeasured: Bool = false) {
    let inverseVolume = 1 / c.boxState.box.volume
    if mode == .isotropic {
      let scalar = (degreesOfFreedom * boltzmann * temperature() + virial[0] + virial[1] + virial[2]) / 3
        * inverseVolume * nktv2p
      for i in 0..<3 { currentPressure[i] = scalar }
      return
    }
    if !kineticMeasured { kinetic = kineticTensor(c.atoms, masses: c.masses, units: c.units, comm: c.comm) }
    let tensor = (0..<6).map { (kinetic[$0] + virial[$0]) * inverseVolume * nktv2p }
    switch barostat.coupling {
    case .xyz: for i in 0..<3 { currentPressure[i] = (tensor[0] + tensor[1] + tensor[2]) / 3 }
    case .xy: (currentPressure[0], currentPressure[1], currentPressure[2]) = pair(tensor[0], tensor[1], tensor[2])
    case .yz: (currentPressure[1], currentPressure[2], currentPressure[0]) = pair(tensor[1], tensor[2], tensor[0])
    case .xz: (currentPressure[0], currentPressure[2], currentPressure[1]) = pair(tensor[0], tensor[2], tensor[1])
    case .none: for i in 0..<3 { currentPressure[i] = tensor[i] }
    }
    // The tensor is ordered xy xz yz; the barostat's shear components yz xz xy.
    if mode == .triclinic { (currentPressure[3], currentPressure[4], currentPressure[5]) = (tensor[5], tensor[4], tensor[3]) }
  }

  private func pair(_ a: Double, _ b: Double, _ other: Double) -> (Double, Double, Double) {
    let mean = 0.5 * (a + b)
    return (mean, mean, other)
  }

  /// LAMMPS `nh_omega_dot`: half a step of ω̇ under the difference between current and target
  /// pressure, plus the MTK kinetic term; then the term that couples ω̇ back to the atoms.
  private func advanceStrainRate(_ c: FixContext) {
    let volume = c.boxState.box.volume
    let dthalf = 0.5 * c.timestep
    let dragFactor = self.dragFactor(c)
    let normalCount = Double(normalDimensions * atomCount)
    var kineticTerm = 0.0
    if mode == .isotropic {
      kineticTerm = degreesOfFreedom * boltzmann * currentTemperature / normalCount
    } else {
      for i in 0..<3 where controlled[i] { kineticTerm += kinetic[i] }
      kineticTerm /= normalCount
    }
    let deviatoric = barostat.deviatoric ? deviatoricForce(c.boxState.box) : nil
    for i in 0..<3 where controlled[i] {
      var force = (currentPressure[i] - hydrostaticTarget) * volume / (barostatMass[i] * nktv2p)
        + kineticTerm / barostatMass[i]
      if let deviatoric { force -= deviatoric[i] / (barostatMass[i] * nktv2p) }
      strainRate[i] += force * dthalf
      strainRate[i] *= dragFactor
    }
    volumeCoupling = 0
    for i in 0..<3 where controlled[i] { volumeCoupling += strainRate[i] }
    volumeCoupling /= normalCount
    guard mode == .triclinic else { return }
    for i in 3..<6 where controlled[i] {
      var force = currentPressure[i] * volume / (barostatMass[i] * nktv2p)
      if let deviatoric { force -= deviatoric[i] / (barostatMass[i] * nktv2p) }
      strainRate[i] += force * dthalf
      strainRate[i] *= dragFactor
    }
  }

  private func dragFactor(_ c: FixContext) -> Double { 1 - c.timestep * frequency * drag / Double(barostat.loops) }

  /// The factors of LAMMPS `nh_v_press` (the atoms' velocities feel the box's strain rate for half
  /// a step, split around the shear terms of `tri`).
  private func pressureScaling(_ c: FixContext) -> (f0: Double, f1: Double, f2: Double, yz: Double, xz: Double, xy: Double) {
    let dt4 = 0.25 * c.timestep
    return (exp(-dt4 * (strainRate[0] + volumeCoupling)), exp(-dt4 * (strainRate[1] + volumeCoupling)),
            exp(-dt4 * (strainRate[2] + volumeCoupling)), strainRate[3], strainRate[4], strainRate[5])
  }

  /// The first half of the step after ω̇, in one sweep over the atoms (each atom's operations in
  /// LAMMPS's order, so the result is that of separate sweeps): `nh_v_press`, the half-kick, and
  /// with `dilate all` the box's half step (`remap`: x2lamda in the old box, lamda2x in the new),
  /// the drift, and the box's second half step.
  private func scaleKickAndDrift(_ c: FixContext) throws {
    let old = c.boxState.box
    let middle = motion.advance(old, strainRate: strainRate, by: 0.5 * c.timestep)
    let new = motion.advance(middle, strainRate: strainRate, by: 0.5 * c.timestep)
    if let (name, tilt, length) = BoxMotion.excessTilt(middle, lengthsOf: old) ?? BoxMotion.excessTilt(new, lengthsOf: middle) {
      throw FixError("the barostat tilted the box too far at step \(c.step): \(name) = \(tilt) is beyond "
        + "\(BoxMotion.tiltLimit) times the box length \(length)\(flipsBox ? "" : " (flip no: the box is never flipped back)"); "
        + "the cell is too far from equilibrium (LAMMPS: 'Fix npt/nph has tilted box too far in one step')")
    }
    let s = pressureScaling(c), triclinic = mode == .triclinic
    let dthalf = 0.5 * c.timestep, dt = c.timestep, dtf = 0.5 * c.timestep * c.units.ftm2v
    let g0 = NoseHooverBarostat.inverseCell(old), lo0 = old.lo
    let h1 = (middle.length.x, middle.length.y, middle.length.z, middle.yz, middle.xz, middle.xy), lo1 = middle.lo
    let g1 = NoseHooverBarostat.inverseCell(middle)
    let h2 = (new.length.x, new.length.y, new.length.z, new.yz, new.xz, new.xy), lo2 = new.lo
    let x = c.atoms.position, v = c.atoms.velocity, f = c.atoms.force, type = c.atoms.type
    let kicks = updateKicks(c, dtf)
    func isOrthogonal(_ b: Box) -> Bool { b.xy == 0 && b.xz == 0 && b.yz == 0 }
    if !triclinic && isOrthogonal(old) && isOrthogonal(middle) && isOrthogonal(new) {
      // The same arithmetic without the tilt terms, which are zero: per dimension, as SIMD lanes.
      let a0 = SIMD3(g0.0, g0.1, g0.2), a1 = SIMD3(h1.0, h1.1, h1.2), a2 = SIMD3(g1.0, g1.1, g1.2)
      let a3 = SIMD3(h2.0, h2.1, h2.2), scale = SIMD3(s.f0, s.f1, s.f2)
      for i in 0..<c.atoms.ownedCount {
        let j = 3 * i
        let velocity = SIMD3(v[j], v[j + 1], v[j + 2]) * scale * scale
          + kicks[Int(type[i])] * SIMD3(f[j], f[j + 1], f[j + 2])
        let drifted = a1 * (a0 * (SIMD3(x[j], x[j + 1], x[j + 2]) - lo0)) + lo1 + dt * velocity
        let position = a3 * (a2 * (drifted - lo1)) + lo2
        (v[j], v[j + 1], v[j + 2]) = (velocity.x, velocity.y, velocity.z)
        (x[j], x[j + 1], x[j + 2]) = (position.x, position.y, position.z)
      }
      c.boxState.box = new
      volume = new.volume
      currentBox = new
      return
    }
    for i in 0..<c.atoms.ownedCount {
      let j = 3 * i
      v[j] *= s.f0; v[j + 1] *= s.f1; v[j + 2] *= s.f2
      if triclinic {
        v[j] += -dthalf * (v[j + 1] * s.xy + v[j + 2] * s.xz)
        v[j + 1] += -dthalf * v[j + 2] * s.yz
      }
      v[j] *= s.f0; v[j + 1] *= s.f1; v[j + 2] *= s.f2
      let kick = kicks[Int(type[i])]
      for k in j..<j + 3 { v[k] += kick * f[k] }
      // Box half step, drift, box half step.
      var (dx, dy, dz) = (x[j] - lo0.x, x[j + 1] - lo0.y, x[j + 2] - lo0.z)
      var lx = g0.0 * dx + g0.5 * dy + g0.4 * dz, ly = g0.1 * dy + g0.3 * dz, lz = g0.2 * dz
      var px = h1.0 * lx + h1.5 * ly + h1.4 * lz + lo1.x, py = h1.1 * ly + h1.3 * lz + lo1.y, pz = h1.2 * lz + lo1.z
      px += dt * v[j]; py += dt * v[j + 1]; pz += dt * v[j + 2]
      (dx, dy, dz) = (px - lo1.x, py - lo1.y, pz - lo1.z)
      lx = g1.0 * dx + g1.5 * dy + g1.4 * dz; ly = g1.1 * dy + g1.3 * dz; lz = g1.2 * dz
      x[j] = h2.0 * lx + h2.5 * ly + h2.4 * lz + lo2.x
      x[j + 1] = h2.1 * ly + h2.3 * lz + lo2.y
      x[j + 2] = h2.2 * lz + lo2.z
    }
    c.boxState.box = new
    volume = new.volume
    currentBox = new
  }

  /// The first part of the second half step in one sweep: the half-kick, `nh_v_press`, and the sums
  /// the temperature compute and (not isotropic) the kinetic tensor take, reduced together into
  /// `kinetic`. Returns the temperature.
  private func kickAndScale(_ c: FixContext) -> Double {
    let s = pressureScaling(c), triclinic = mode == .triclinic, tensor = mode != .isotropic
    let dthalf = 0.5 * c.timestep, dtf = 0.5 * c.timestep * c.units.ftm2v
    let v = c.atoms.velocity, f = c.atoms.force, type = c.atoms.type
    let kicks = updateKicks(c, dtf)
    var sum = 0.0
    var (xx, yy, zz, xy, xz, yz) = (0.0, 0.0, 0.0, 0.0, 0.0, 0.0)
    for i in 0..<c.atoms.ownedCount {
      let j = 3 * i
      let m = c.masses[type[i]]
      let kick = kicks[Int(type[i])]
      for k in j..<j + 3 { v[k] += kick * f[k] }
      v[j] *= s.f0; v[j + 1] *= s.f1; v[j + 2] *= s.f2
      if triclinic {
        v[j] += -dthalf * (v[j + 1] * s.xy + v[j + 2] * s.xz)
        v[j + 1] += -dthalf * v[j + 2] * s.yz
      }
      v[j] *= s.f0; v[j + 1] *= s.f1; v[j + 2] *= s.f2
      let vx = v[j], vy = v[j + 1], vz = v[j + 2]
      sum += m * (vx * vx + vy * vy + vz * vz)
      if tensor {
        xx += m * vx * vx; yy += m * vy * vy; zz += m * vz * vz
        xy += m * vx * vy; xz += m * vx * vz; yz += m * vy * vz
      }
    }
    let mvv2e = c.units.mvv2e
    (kineticSums[0], kineticSums[1], kineticSums[2], kineticSums[3]) = (sum * mvv2e, xx * mvv2e, yy * mvv2e, zz * mvv2e)
    (kineticSums[4], kineticSums[5], kineticSums[6]) = (xy * mvv2e, xz * mvv2e, yz * mvv2e)
    c.comm.allReduce(&kineticSums, .sum)
    for k in 0..<6 { kinetic[k] = kineticSums[k + 1] }
    let dof = c.degreesOfFreedom
    return dof > 0 ? kineticSums[0] / (dof * c.units.boltzmann) : 0
  }
  /// Σ m v² and the kinetic tensor of this rank, then of all (one reduction).
  private var kineticSums = [Double](repeating: 0, count: 7)

  /// The half-kick's dt/2 · ftm2v / m per type, so that the loops over atoms do not divide.
  private func updateKicks(_ c: FixContext, _ dtf: Double) -> UnsafeMutableBufferPointer<Double> {
    let types = c.masses.typeCount + 1
    if kickOfType.count != types {
      kickOfType.deallocate()
      kickOfType = .allocate(capacity: types)
      kickOfType.initialize(repeating: 0)
    }
    for t in 1..<types { kickOfType[t] = dtf / c.masses[Int32(t)] }
    return kickOfType
  }
  private var kickOfType = UnsafeMutableBufferPointer<Double>.allocate(capacity: 0)
  deinit { kickOfType.deallocate() }

  /// LAMMPS `nhc_press_integrate`: half a step of the chain thermostatting the barostat, which scales ω̇.
  private func integratePressureChain(_ c: FixContext) {
    guard pressureChain != nil else { return }
    let kT = boltzmann * barostatTemperature
    var twiceKinetic: Double {
      (0..<6).reduce(0) { controlled[$1] ? $0 + barostatMass[$1] * strainRate[$1] * strainRate[$1] : $0 }
    }
    let degrees = controlled.filter { $0 }.count
    let target = mode == .isotropic ? kT : Double(degrees) * kT
    pressureChain!.halfStep(timestep: c.timestep, loops: barostat.loops, dragFactor: dragFactor(c),
                            kinetic: twiceKinetic, target: target, kT: kT) { factor in
      for i in 0..<6 where controlled[i] { strainRate[i] *= factor }
      return twiceKinetic
    }
  }

  /// What a continued run needs to go on bit for bit — LAMMPS's `FixNH::pack_restart_data` (chains,
  /// ω̇, vol0, t0, h0_inv) plus the thermostat's running temperature and the dilation's fixed point:
  /// [tchain, T, thermostat chain…, pchain, barostat chain…, ω̇ ×6, vol0, t0, h0⁻¹ ×6, fixed point ×3].
  public var restartState: [Double] {
    var state = [Double(thermostat?.chainLength ?? 0), currentTemperature] + (thermostat?.chainState ?? [])
    state += [Double(pressureChain?.length ?? 0)] + (pressureChain?.state ?? [])
    state += strainRate + [referenceVolume ?? 0, initialTemperature ?? 0] + (referenceInverseCell ?? [0, 0, 0, 0, 0, 0])
    state += [motion.fixedPoint.x, motion.fixedPoint.y, motion.fixedPoint.z]
    return state
  }

  public func restore(_ state: [Double]) throws {
    var rest = state[...]
    func take(_ count: Int) throws -> [Double] {
      guard rest.count >= count else { throw FixStateError("the restart's barostat state is too short") }
      defer { rest = rest.dropFirst(count) }
      return Array(rest.prefix(count))
    }
    let tchain = Int(try take(1)[0])
    guard tchain == (thermostat?.chainLength ?? 0) else {
      throw FixStateError("the restart's thermostat chain has \(tchain) links, the fix \(thermostat?.chainLength ?? 0)")
    }
    let temperature = try take(1)[0]
    if thermostat != nil, !thermostat!.restoreChain(try take(2 * tchain + 1)) {
      throw FixStateError("the restart's thermostat chain is malformed")
    }
    let pchain = Int(try take(1)[0])
    guard pchain == (pressureChain?.length ?? 0) else {
      throw FixStateError("the restart's barostat chain has \(pchain) links, the fix \(pressureChain?.length ?? 0)")
    }
    if pressureChain != nil, !pressureChain!.restore(try take(2 * pchain + 1)) {
      throw FixStateError("the restart's barostat chain is malformed")
    }
    let rates = try take(6)
    let references = try take(2)
    let inverseCell = try take(6)
    let point = try take(3)
    guard rest.isEmpty else { throw FixStateError("the restart's barostat state has \(rest.count) numbers too many") }
    for i in 0..<6 where !controlled[i] && rates[i] != 0 {
      throw FixStateError("the restart's barostat moves box component \(i + 1), which this fix does not control")
    }
    restoredTemperature = temperature
    strainRate = rates
    referenceVolume = references[0] > 0 ? references[0] : nil
    referenceInverseCell = references[0] > 0 ? inverseCell : nil
    initialTemperature = references[1] > 0 ? references[1] : nil
    motion.fixedPoint = SIMD3(point[0], point[1], point[2])
  }

  /// A temperature carried over from a restart: the thermostat's running value, which a fresh sum
  /// over the velocities reproduces only to round-off.
  private var restoredTemperature: Double?

  /// LAMMPS `FixNH::compute_scalar`: the thermostat chain, the barostat's kinetic energy and P·ΔV, and
  /// the barostat's chain.
  public var coupledEnergy: Double {
    let kT = boltzmann * barostatTemperature
    var energy = thermostat?.energy(degreesOfFreedom: degreesOfFreedom, boltzmann: boltzmann) ?? 0
    var chainCoupling = 0.0
    for i in 0..<6 where controlled[i] {
      energy += 0.5 * strainRate[i] * strainRate[i] * barostatMass[i]
      if i < 3 {
        energy += hydrostaticTarget * (volume - (referenceVolume ?? volume)) / (Double(normalDimensions) * nktv2p)
      }
      chainCoupling += kT
    }
    if let chain = pressureChain { energy += chain.energy(firstCoupling: chainCoupling, kT: kT) }
    if barostat.deviatoric, let box = currentBox { energy += strainEnergy(box) }
    return energy
  }
}
