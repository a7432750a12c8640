import ArgumentParser
import Foundation
import DeepPotentialEngine
import Simulation

extension Tessera {
  /// `tessera eval --model MODEL.dp [--type-map A,B,…] INPUT.xyz [-o OUTPUT.xyz]`: single-point
  /// energies, forces and virials of extended XYZ frames, as DeePMD-kit's `DeepPot.eval`.
  struct Eval: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Evaluate a Deep Potential on extended XYZ frames (energy, forces, virial, per-atom energies and virials).")

    @Option(help: "DeePMD-kit model file (.dp); repeat with --devi for an ensemble (the first as in pair_style deepmd).")
    var model: [String]

    @Option(name: .customLong("type-map"),
            help: "Element of each model type, comma-separated (default: the model's type_map).")
    var typeMap: String?

    @Argument(help: "Extended XYZ input (ASE conventions).")
    var input: String

    @Option(name: [.customShort("o"), .customLong("output")], help: "Extended XYZ output (default: standard output).")
    var output: String?

    @Option(help: "Write the ensemble's model deviation per frame to this file, as `dp model-devi` writes it.")
    var devi: String?

    @Flag(help: "With --devi: append every atom's force deviation (dp model-devi --atomic).")
    var atomic = false

    @Option(help: "With --devi: relative force deviation with this level ε in eV/Å (dp model-devi --relative).")
    var relative: Double?

    @Option(name: .customLong("relative-v"), help: "With --devi: relative virial deviation with level ε in eV (dp model-devi --relative_v).")
    var relativeV: Double?

    @Option(help: "Frame parameters of a model trained with numb_fparam, comma-separated (as pair_style deepmd … fparam).")
    var fparam: String?

    @Option(help: "Atomic parameters of a model trained with numb_aparam, the same for every atom, comma-separated (as pair_style deepmd … aparam).")
    var aparam: String?

    @Option(name: .customLong("devi-digits"), help: "With --devi: digits after the point (default 6, as dp model-devi).")
    var deviDigits = 6

    func run() throws {
      do {
        let names = typeMap.map { $0.split(separator: ",").map(String.init) }
        let parameters = ModelParameters(frame: try fparam.map { try Self.numbers($0, "--fparam") },
                                         atom: try aparam.map { try Self.numbers($0, "--aparam") })
        if let devi {
          try runModelDeviation(modelPaths: model, typeMap: names, inputPath: input, outputPath: devi,
                                options: DeviationOptions(atomic: atomic, relative: relative, relativeVirial: relativeV),
                                digits: deviDigits, parameters: parameters)
          return
        }
        guard model.count == 1 else { throw ValidationError("several --model files need --devi FILE") }
        try runSinglePoint(modelPath: model[0], typeMap: typeMap.map { $0.split(separator: ",").map(String.init) },
                           inputPath: input, outputPath: output, parameters: parameters)
      } catch {
        FileHandle.standardError.write(Data("ERROR: \(error)\n".utf8))
        throw ExitCode(1)
      }
    }

    /// "0.3,1.5" as numbers.
    static func numbers(_ list: String, _ option: String) throws -> [Double] {
      try list.split(separator: ",", omittingEmptySubsequences: false).map { word in
        guard let value = Double(word.trimmingCharacters(in: .whitespaces)), value.isFinite else {
          throw ValidationError("\(option): expected comma-separated numbers, got '\(list)'")
        }
        return value
      }
    }
  }
}
