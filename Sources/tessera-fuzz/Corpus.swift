import Foundation

/// The inputs the harness starts from, copied into a work directory laid out as `inputs/` is
/// (decks find their data files and models by the same relative paths), and the mutants made there.
struct Corpus {
  let inputs: String
  let work: String
  /// Each target with its share of the cases.
  let targets: [(FuzzTarget, weight: Int)]
  /// Command-line variables that keep decks small: checking creates the atoms.
  let deckVariables = ["in.melt": ["n": "3"], "in.cu": ["n": "3"]]

  /// Sabotage that proves the harness reports a trap or a hang in a case.
  enum SelfTest: String { case trap, hang }
  let selfTest: SelfTest?

  init(inputs: String, work: String, selfTest: SelfTest?) throws {
    self.selfTest = selfTest
    self.inputs = inputs
    self.work = work
    let files = FileManager.default
    try? files.removeItem(atPath: work)
    for directory in ["cu", "lj", "model"] {
      try files.createDirectory(atPath: "\(work)/\(directory)", withIntermediateDirectories: true)
    }
    try files.createSymbolicLink(atPath: "\(work)/models", withDestinationPath: "\(inputs)/models")
    for file in ["lj/in.melt_data", "lj/data.melt"] {
      try files.copyItem(atPath: "\(inputs)/\(file)", toPath: "\(work)/\(file)")
    }
    let variants = ["atom_ener_silut_softplus", "exclude_protection_two_side", "exclusions_one_side", "fitting_residuals"]
    targets = [
      (.deck(name: "in.cu", directory: "cu"), 10), (.deck(name: "in.melt", directory: "lj"), 10),
      (.deck(name: "in.melt_data", directory: "lj"), 10), (.data(name: "data.melt", directory: "lj"), 35),
      (.model(name: "cu_se_e2_a", path: "models/cu_se_e2_a/cu_se_e2_a.dp"), 3),
    ] + variants.map { (.model(name: $0, path: "models/variants/\($0)/\($0).dp"), 8) }
  }

  func runCase(using rng: inout SeededRandom, replay: String) throws -> Outcome {
    var pick = rng.below(targets.map(\.weight).reduce(0, +))
    let target = targets.first { pick -= $0.weight; return pick < 0 }!.0
    switch target {
    case .deck(let name, let directory):
      let mutant = "\(work)/\(directory)/fuzz-\(name)"
      let (data, done) = TextMutation.mutate(try Data(contentsOf: URL(fileURLWithPath: "\(inputs)/\(directory)/\(name)")), using: &rng)
      try data.write(to: URL(fileURLWithPath: mutant))
      return run("\(replay): \(target): \(done.joined(separator: "; "))", file: mutant, model: false, in: directory) {
        try FuzzTarget.checkDeck(mutant, variables: deckVariables[name] ?? [:])
      }
    case .data(let name, let directory):
      let mutant = "\(work)/\(directory)/fuzz-\(name)"
      let (data, done) = TextMutation.mutate(try Data(contentsOf: URL(fileURLWithPath: "\(inputs)/\(directory)/\(name)")), using: &rng)
      try data.write(to: URL(fileURLWithPath: mutant))
      return run("\(replay): \(target): \(done.joined(separator: "; "))", file: mutant, model: false, in: directory) {
        try FuzzTarget.checkDeck("\(work)/lj/in.melt_data", variables: ["data": mutant])
      }
    case .model(let name, let path):
      let mutant = "\(work)/model/fuzz-\(name).dp"
      try? FileManager.default.removeItem(atPath: mutant)
      try FileManager.default.copyItem(atPath: "\(inputs)/\(path)", toPath: mutant)
      chmod(mutant, 0o644)
      let done = try ModelMutation.mutate(path: mutant, using: &rng)
      return run("\(replay): \(target): \(done)", file: mutant, model: true, in: "model") {
        try FuzzTarget.loadModel(mutant)
      }
    }
  }

  private func run(_ what: String, file: String, model: Bool, in directory: String, _ body: () throws -> Void) -> Outcome {
    CrashReport.begin(what)
    FileManager.default.changeCurrentDirectoryPath("\(work)/\(directory)")
    switch selfTest {
    case .trap: fatalError("self-test trap")
    case .hang: while true { sleep(1) }
    case nil: break
    }
    do {
      try body()
      return .accepted(what)
    } catch {
      let message = "\(error)"
      return RejectionCheck.isLocated(message, file: file, model: model)
        ? .rejected(what, message: message) : .unlocated(what, message: message)
    }
  }
}
