import Communication
import DeepPotential
import Foundation
import InputDeck
import Output
import Simulation

/// One kind of input the harness mutates and the parser that reads it.
enum FuzzTarget: CustomStringConvertible {
  /// A deck, checked as `tessera check` does, from its own directory.
  case deck(name: String, directory: String)
  /// A data file, read by `inputs/lj/in.melt_data` in check mode through its `data` variable.
  case data(name: String, directory: String)
  /// A `.dp` model, loaded as `pair_style deepmd` does.
  case model(name: String, path: String)

  var description: String {
    switch self {
    case .deck(let name, _): return "deck \(name)"
    case .data(let name, _): return "data file \(name)"
    case .model(let name, _): return "model \(name)"
    }
  }

  /// Checks a deck with a silent console on one rank. `variables` are command-line definitions.
  static func checkDeck(_ path: String, variables: [String: String]) throws {
    let simulation = Simulation(comm: SerialCommunicator(), console: Console(isWriter: false), job: .check(plannedRanks: nil))
    for (name, value) in variables { try simulation.variables.defineFromCommandLine(name, values: [value]) }
    try Interpreter(simulation: simulation).execute(file: path)
  }

  static func loadModel(_ path: String) throws {
    _ = try DeepPotentialModel.load(path: path)
  }
}

/// How a rejection must be worded: it names the damaged file, and a line in it (text inputs) or
/// what in the model is wrong (a key, dataset or the document).
enum RejectionCheck {
  static func isLocated(_ message: String, file: String, model: Bool) -> Bool {
    guard message.contains(file) else { return false }
    if model {
      let after = message.components(separatedBy: file).dropFirst().joined()
      return after.hasPrefix(": ") && ["model.", "'json'", "dataset", "HDF5"].contains { after.contains($0) }
    }
    return message.range(of: NSRegularExpression.escapedPattern(for: file) + ":[0-9]+", options: .regularExpression) != nil
      || message.range(of: ":[0-9]+: .*" + NSRegularExpression.escapedPattern(for: file), options: .regularExpression) != nil
  }
}
