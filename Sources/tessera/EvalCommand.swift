import ArgumentParser
import Foundation
import Simulation

extension Tessera {
  /// `tessera eval --model MODEL.dp [--type-map A,B,…] INPUT.xyz [-o OUTPUT.xyz]`: single-point
  /// energies, forces and virials of extended XYZ frames, as DeePMD-kit's `DeepPot.eval`.
  struct Eval: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Evaluate a Deep Potential on extended XYZ frames (energy, forces, virial, per-atom energies and virials).")

    @Option(help: "DeePMD-kit model file (.dp).")
    var model: String

    @Option(name: .customLong("type-map"),
            help: "Element of each model type, comma-separated (default: the model's type_map).")
    var typeMap: String?

    @Argument(help: "Extended XYZ input (ASE conventions).")
    var input: String

    @Option(name: [.customShort("o"), .customLong("output")], help: "Extended XYZ output (default: standard output).")
    var output: String?

    func run() throws {
      do {
        try runSinglePoint(modelPath: model, typeMap: typeMap.map { $0.split(separator: ",").map(String.init) },
                           inputPath: input, outputPath: output)
      } catch {
        FileHandle.standardError.write(Data("ERROR: \(error)\n".utf8))
        throw ExitCode(1)
      }
    }
  }
}
