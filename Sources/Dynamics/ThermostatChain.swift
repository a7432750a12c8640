import Foundation

/// One Nosé–Hoover chain as LAMMPS's `FixNH` integrates it (`nhc_temp_integrate` and
/// `nhc_press_integrate` are the same algorithm): M links with positions η, velocities η̇ and masses
/// Q, the first link coupled to a kinetic energy — the atoms' for a thermostat, the barostat's own
/// for the chain that thermostats a barostat.
struct ThermostatChain {
  private var position: [Double]
  /// One extra velocity, always 0, closes the chain.
  private var velocity: [Double]
  private var acceleration: [Double]
  private var mass: [Double]

  init(length: Int) {
    precondition(length >= 1, "a chain has at least one link")
    position = [Double](repeating: 0, count: length)
    velocity = [Double](repeating: 0, count: length + 1)
    acceleration = [Double](repeating: 0, count: length)
    mass = [Double](repeating: 0, count: length)
  }

  var length: Int { position.count }

  /// Positions and velocities, what a restart keeps (masses and link forces follow from them).
  var state: [Double] { position + velocity }

  mutating func restore(_ state: [Double]) -> Bool {
    guard state.count == 2 * length + 1 else { return false }
    position = Array(state[0..<length])
    velocity = Array(state[length...])
    return true
  }

  /// Q₁ = `first`, the others `rest`.
  mutating func setMasses(first: Double, rest: Double) {
    mass[0] = first
    for k in 1..<length { mass[k] = rest }
  }

  /// Forces on the links after the first, from the current velocities (what LAMMPS's `setup` does
  /// before the first half step).
  mutating func updateLinkForces(kT: Double) {
    for k in 1..<length {
      acceleration[k] = (mass[k - 1] * velocity[k - 1] * velocity[k - 1] - kT) / mass[k]
    }
  }

  /// Half a timestep, Trotter-split into `loops` pieces. `kinetic` is twice the coupled kinetic energy
  /// and `target` its target value; `scale(f)` multiplies the coupled velocities by f and returns the
  /// new twice-kinetic energy. `dragFactor` damps the chain velocities (1 without drag).
  mutating func halfStep(timestep dt: Double, loops: Int, dragFactor: Double, kinetic: Double, target: Double,
                         kT: Double, scale: (Double) -> Double) {
    let (dthalf, dt4, dt8) = (0.5 * dt, 0.25 * dt, 0.125 * dt)
    let fraction = 1 / Double(loops)
    acceleration[0] = mass[0] > 0 ? (kinetic - target) / mass[0] : 0
    for _ in 0..<loops {
      for k in stride(from: length - 1, to: 0, by: -1) {
        let expfac = exp(-fraction * dt8 * velocity[k + 1])
        velocity[k] *= expfac
        velocity[k] += acceleration[k] * fraction * dt4
        velocity[k] *= dragFactor
        velocity[k] *= expfac
      }
      var expfac = exp(-fraction * dt8 * velocity[1])
      velocity[0] *= expfac
      velocity[0] += acceleration[0] * fraction * dt4
      velocity[0] *= dragFactor
      velocity[0] *= expfac

      let scaled = scale(exp(-fraction * dthalf * velocity[0]))
      acceleration[0] = mass[0] > 0 ? (scaled - target) / mass[0] : 0

      for k in 0..<length { position[k] += fraction * dthalf * velocity[k] }

      velocity[0] *= expfac
      velocity[0] += acceleration[0] * fraction * dt4
      velocity[0] *= expfac
      for k in 1..<length {
        expfac = exp(-fraction * dt8 * velocity[k + 1])
        velocity[k] *= expfac
        acceleration[k] = (mass[k - 1] * velocity[k - 1] * velocity[k - 1] - kT) / mass[k]
        velocity[k] += acceleration[k] * fraction * dt4
        velocity[k] *= expfac
      }
    }
  }

  /// The chain's energy (Martyna, Tuckerman, Tobias & Klein 1996, eq. 2): `firstCoupling`·η₁ +
  /// Σ_{k>1} kT·η_k + Σ ½ Q_k η̇_k².
  func energy(firstCoupling: Double, kT: Double) -> Double {
    var energy = firstCoupling * position[0] + 0.5 * mass[0] * velocity[0] * velocity[0]
    for k in 1..<length { energy += kT * position[k] + 0.5 * mass[k] * velocity[k] * velocity[k] }
    return energy
  }
}
