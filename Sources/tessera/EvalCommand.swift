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

    @Option(name: .customLong("devi-digits"), help: "With --devi: digits after the point (default 6, as dp model-devi).")
    var deviDigits = 6

    func run() throws {
      do {
        let names = typeMap.map { $0.split(separator: ",").map(String.init) }
        if let devi {
          try runModelDeviation(modelPaths: model, typeMap: names, inputPath: input, outputPath: devi,
                                options: DeviationOptions(atomic: atomic, relative: relative, relativeVirial: relativeV),
                                digits: deviDigits)
          return
        }
        guard model.count == 1 else { throw ValidationError("several --model files need --devi FILE") }
        try runSinglePoint(modelPath: model[0], typeMap: typeMap.map { $0.split(separator: ",").map(String.init) },
                           inputPath: input, outputPath: output)
      } catch {
        FileHandle.standardError.write(Data("ERROR: \(error)\n".utf8))
        throw ExitCode(1)
      }
    }
  }
}
