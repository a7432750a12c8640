import DeepPotential
import Foundation
import Trajectory

/// What `tessera eval --devi` and `pair_style deepmd … out_file` may add to the statistics.
public struct DeviationOptions: Sendable {
  /// Append every atom's force deviation to each row (`atomic`).
  public var atomic = false
  /// ε of the relative force deviation σ_i / (|⟨F_i⟩| + ε) (`relative`).
  public var relative: Double?
  /// ε of the relative virial deviation (`relative_v`).
  public var relativeVirial: Double?
  public init(atomic: Bool = false, relative: Double? = nil, relativeVirial: Double? = nil) {
    self.atomic = atomic
    self.relative = relative
    self.relativeVirial = relativeVirial
  }
}

/// `tessera eval --model M1 --model M2 … frames.xyz --devi OUT`: the ensemble's deviation on every
/// frame, written as `dp model-devi` writes it (step = frame index; columns max/min/avg virial
/// deviation per atom, max/min/avg force deviation, energy deviation per atom, then per-atom force
/// deviations with `atomic`). The file is written whole or not at all.
public func runModelDeviation(modelPaths: [String], typeMap: [String]?, inputPath: String, outputPath: String,
                              options: DeviationOptions, digits: Int = 6,
                              parameters: ModelParameters = ModelParameters()) throws {
  guard modelPaths.count >= 2 else { throw DeepPotentialError("--devi needs at least two --model files") }
  let models = try modelPaths.map { try DeviationModel.load(path: $0, parameters: parameters) }
  for (path, model) in zip(modelPaths, models) where model.typeMap != models[0].typeMap {
    throw DeepPotentialError("\(path): type map \(model.typeMap.joined(separator: ",")) differs from \(modelPaths[0])'s \(models[0].typeMap.joined(separator: ",")); an ensemble needs one type map")
  }
  let names = typeMap ?? models[0].typeMap
  guard names.count == models[0].typeMap.count else {
    throw DeepPotentialError("--type-map names \(names.count) elements but the models have \(models[0].typeMap.count) types")
  }
  let evaluators = models.map { $0.singlePoint() }
  let frames = try ExtendedXYZ.read(contentsOf: inputPath)
  var text = "# \(inputPath)\n# step" + String(repeating: " ", count: 6)
  for item in ["v", "f"] {
    for stat in ["max", "min", "avg"] { text += padded("\(stat)_devi_\(item)", 19) }
  }
  text += padded("devi_e", 19)
  if options.atomic { text += padded("atm_devi_f(N)", 19) }
  text += "\n"
  for (f, frame) in frames.enumerated() {
    let location = "\(inputPath): frame \(f + 1)"
    let (types, cell) = try evaluationInputs(frame, names: names, location: location)
    let results = try evaluators.map { evaluator in
      do { return try evaluator(frame.positions, types, cell) } catch {
        throw DeepPotentialError("\(location): \(error)")
      }
    }
    let n = types.count
    let virial = ModelDeviation.virial(results.map { $0.virial.map { $0 / Double(n) } },
                                       relative: options.relativeVirial, scaling: .byNorm)
    var perAtom = [Double](repeating: 0, count: n)
    withForcePointers(results.map(\.forces)) { forces in
      ModelDeviation.forces(forces, count: n, relative: options.relative, into: &perAtom)
    }
    let energy = ModelDeviation.energy(results.map { $0.energy / Double(n) })
    var row = padded(String(f), 12, right: true)
    for value in [virial.max, virial.min, virial.avg, perAtom.max()!, perAtom.min()!,
                  perAtom.reduce(0, +) / Double(n), energy] + (options.atomic ? perAtom : []) {
      row += padded(String(format: "%.\(digits)e", value), max(19, digits + 13), right: true)
    }
    text += row + "\n"
  }
  try AtomicFile.write(text, to: outputPath)
}

private func withForcePointers<R>(_ arrays: [[Double]], _ body: ([UnsafePointer<Double>]) -> R) -> R {
  var pointers: [UnsafePointer<Double>] = []
  func nest(_ k: Int) -> R {
    if k == arrays.count { return body(pointers) }
    return arrays[k].withUnsafeBufferPointer { p in
      pointers.append(p.baseAddress!)
      return nest(k + 1)
    }
  }
  return nest(0)
}

/// `text` left-aligned (or right-aligned) in a field of `width`, as printf's %-Ns / %Ns.
func padded(_ text: String, _ width: Int, right: Bool = false) -> String {
  let pad = String(repeating: " ", count: max(0, width - text.count))
  return right ? pad + text : text + pad
}
