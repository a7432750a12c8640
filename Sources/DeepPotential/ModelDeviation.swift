import Foundation

/// Ensemble statistics of DeePMD-kit's model deviation (DP-GEN's `model_devi.out`), as
/// `DeepBaseModelDevi` (LAMMPS plugin) and `deepmd.infer.model_devi` (`dp model-devi`) compute them.
public enum ModelDeviation {
  /// Per-atom force deviation σ_i = sqrt(Σ_c ⟨(F_ic − ⟨F_ic⟩)²⟩) over the models, for atoms
  /// `0..<count` of packed [n][3] force arrays; with `relative` ε, divided by |⟨F_i⟩| + ε.
  public static func forces(_ forces: [UnsafePointer<Double>], count: Int, relative: Double?,
                            into deviation: UnsafeMutablePointer<Double>) {
    let models = Double(forces.count)
    for i in 0..<count {
      var mean = SIMD3<Double>()
      for f in forces { mean += SIMD3(f[3 * i], f[3 * i + 1], f[3 * i + 2]) }
      mean /= models
      var sum = 0.0
      for f in forces {
        let d = SIMD3(f[3 * i], f[3 * i + 1], f[3 * i + 2]) - mean
        sum += (d * d).sum()
      }
      var sigma = (sum / models).squareRoot()
      if let relative { sigma /= (mean * mean).sum().squareRoot() + relative }
      deviation[i] = sigma
    }
  }

  /// How `relative_v` scales the virial deviation: LAMMPS's plugin divides each component by its
  /// own |⟨W_c⟩| + ε (stride 1); `dp model-devi` divides all nine by the norm of ⟨W⟩ plus ε.
  public enum VirialScaling: Sendable { case perComponent, byNorm }

  /// (max, min, avg) of the nine components' deviations of `virials` (one 9-vector per model, already
  /// divided by the atom count); avg is their root mean square.
  public static func virial(_ virials: [[Double]], relative: Double?, scaling: VirialScaling)
    -> (max: Double, min: Double, avg: Double) {
    let models = Double(virials.count)
    var sigma = [Double](repeating: 0, count: 9), mean = [Double](repeating: 0, count: 9)
    for c in 0..<9 {
      for v in virials { mean[c] += v[c] }
      mean[c] /= models
      var sum = 0.0
      for v in virials { sum += (v[c] - mean[c]) * (v[c] - mean[c]) }
      sigma[c] = (sum / models).squareRoot()
    }
    if let relative {
      let norm = mean.reduce(0) { $0 + $1 * $1 }.squareRoot()
      for c in 0..<9 { sigma[c] /= (scaling == .perComponent ? abs(mean[c]) : norm) + relative }
    }
    return (sigma.max()!, sigma.min()!, (sigma.reduce(0) { $0 + $1 * $1 } / 9).squareRoot())
  }

  /// Standard deviation of the models' energies per atom (`dp model-devi`'s devi_e).
  public static func energy(_ energiesPerAtom: [Double]) -> Double {
    let mean = energiesPerAtom.reduce(0, +) / Double(energiesPerAtom.count)
    return (energiesPerAtom.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(energiesPerAtom.count)).squareRoot()
  }
}
