import Foundation

/// `fix ID all temp/berendsen Tstart Tstop Tdamp`: velocities scaled at the end of each step by
/// λ = √(1 + dt/τ (T_target/T − 1)) (Berendsen et al. 1984), as LAMMPS `FixTempBerendsen`.
public final class BerendsenThermostat: Fix {
  public let startTemperature, stopTemperature, damping: Double
  private var exchanged = 0.0

  public init(startTemperature: Double, stopTemperature: Double, damping: Double) {
    self.startTemperature = startTemperature
    self.stopTemperature = stopTemperature
    self.damping = damping
  }

  public func endOfStep(_ c: FixContext) {
    let dof = c.degreesOfFreedom
    let current = c.temperature()
    guard dof >= 1, current > 0 else { return }
    let target = startTemperature + c.runFraction * (stopTemperature - startTemperature)
    let lambda = (1 + c.timestep / damping * (target / current - 1)).squareRoot()
    exchanged += current * (1 - lambda * lambda) * 0.5 * c.units.boltzmann * dof
    c.scaleVelocities(lambda)
  }

  public var coupledEnergy: Double { exchanged }
  public var restartState: [Double] { [exchanged] }
  public func restore(_ state: [Double]) throws {
    guard state.count == 1 else { throw FixStateError("expected 1 number, found \(state.count)") }
    exchanged = state[0]
  }
}

/// `fix ID all temp/csvr Tstart Tstop Tdamp SEED`: the canonical sampling velocity rescaling of
/// Bussi, Donadio & Parrinello (2007), as LAMMPS `FixTempCSVR`: the new kinetic energy is drawn on
/// rank 0 and the common factor broadcast, so every rank count follows the same random path.
public final class StochasticVelocityRescaling: Fix {
  public let startTemperature, stopTemperature, damping: Double
  private var random: SplitMix64
  private var exchanged = 0.0

  public init(startTemperature: Double, stopTemperature: Double, damping: Double, seed: Int) {
    self.startTemperature = startTemperature
    self.stopTemperature = stopTemperature
    self.damping = damping
    random = SplitMix64(seed: UInt64(truncatingIfNeeded: seed) &* 0xD1B5_4A32_D192_ED03)
  }

  public func endOfStep(_ c: FixContext) {
    let dof = c.degreesOfFreedom
    guard dof >= 1 else { return }
    let target = startTemperature + c.runFraction * (stopTemperature - startTemperature)
    let factor = 0.5 * dof * c.units.boltzmann
    let oldKinetic = c.temperature() * factor, newKinetic = target * factor
    guard oldKinetic > 0 else { return }
    var lambda = 0.0
    if c.comm.rank == 0 {
      let c1 = exp(-c.timestep / damping)
      let c2 = (1 - c1) * newKinetic / oldKinetic / dof
      let r1 = random.nextGaussian()
      let r2 = sumOfSquaredGaussians(Int(dof) - 1)
      lambda = (c1 + c2 * (r1 * r1 + r2) + 2 * r1 * (c1 * c2).squareRoot()).squareRoot()
    }
    lambda = c.comm.allReduce(lambda, .sum)
    c.scaleVelocities(lambda)
    exchanged += oldKinetic * (1 - lambda * lambda)
  }

  /// Σ of n squared standard normals: a χ²(n) variate, 2·Gamma(n/2) (plus one square when n is odd).
  private func sumOfSquaredGaussians(_ n: Int) -> Double {
    if n <= 0 { return 0 }
    var sum = n >= 2 ? 2 * gamma(shape: Double(n / 2)) : 0
    if n % 2 == 1 {
      let g = random.nextGaussian()
      sum += g * g
    }
    return sum
  }

  /// Gamma(shape, 1) by Marsaglia & Tsang (2000), shape ≥ 1.
  private func gamma(shape: Double) -> Double {
    let d = shape - 1.0 / 3.0, c = 1 / (9 * d).squareRoot()
    while true {
      var x = 0.0, v = 0.0
      repeat {
        x = random.nextGaussian()
        v = 1 + c * x
      } while v <= 0
      v = v * v * v
      let u = random.nextUniform()
      if u < 1 - 0.0331 * x * x * x * x || log(u) < 0.5 * x * x + d * (1 - v + log(v)) { return d * v }
    }
  }

  public var coupledEnergy: Double { exchanged }
  /// The generator's 64-bit state travels as two exactly representable halves.
  public var restartState: [Double] {
    [exchanged, Double(random.state >> 32), Double(random.state & 0xFFFF_FFFF)]
  }
  public func restore(_ state: [Double]) throws {
    guard state.count == 3 else { throw FixStateError("expected 3 numbers, found \(state.count)") }
    exchanged = state[0]
    random.state = UInt64(state[1]) << 32 | UInt64(state[2])
  }
}
