import Foundation

/// `tessera-fuzz`: a seeded mutation loop over the decks, data file and `.dp` models in `inputs/`.
/// Each case mutates one input and runs its parser; a crash or trap kills this process (its case is
/// printed first), a case stuck longer than the watchdog allows exits with status 3, and a
/// rejection whose message does not name the file and line (or key) is reported and makes the exit
/// status 1. Case K of seed S is the same on every machine: `--seed S --first K --count 1` replays it.
///
///   tessera-fuzz --inputs DIR --work DIR [--seed S] [--first K] [--count N] [--timeout SECONDS] [--verbose]
///                [--self-test trap|hang]   (every case traps or hangs: checks the harness catches both)
@main
struct FuzzMain {
  static func main() throws {
    var options = ["--seed": "20261125", "--first": "0", "--count": "10000", "--timeout": "20"]
    var verbose = false
    var selfTest: Corpus.SelfTest?
    var arguments = CommandLine.arguments.dropFirst()
    while let flag = arguments.popFirst() {
      if flag == "--verbose" { verbose = true; continue }
      guard let value = arguments.popFirst() else { fail("\(flag) needs a value") }
      if flag == "--self-test" {
        guard let mode = Corpus.SelfTest(rawValue: value) else { fail("--self-test expects trap or hang") }
        selfTest = mode
        continue
      }
      options[flag] = value
    }
    guard let inputs = options["--inputs"], let work = options["--work"],
          let seed = UInt64(options["--seed"]!), let first = Int(options["--first"]!),
          let count = Int(options["--count"]!), let timeout = Double(options["--timeout"]!) else {
      fail("usage: tessera-fuzz --inputs DIR --work DIR [--seed S] [--first K] [--count N] [--timeout S] [--verbose]")
    }
    let corpus = try Corpus(inputs: URL(fileURLWithPath: inputs).standardizedFileURL.path,
                            work: URL(fileURLWithPath: work).standardizedFileURL.path, selfTest: selfTest)
    CrashReport.installSignalHandlers()
    CrashReport.startWatchdog(seconds: timeout)
    var tally = Tally()
    for k in first..<(first + count) {
      var rng = SeededRandom(seed: seed, stream: UInt64(k))
      let outcome = try corpus.runCase(using: &rng, replay: "seed \(seed) case \(k)")
      tally.add(outcome)
      if verbose || outcome.isFailure { print("case \(k): \(outcome)") }
    }
    print("fuzz: seed \(seed), cases \(first)..<\(first + count): \(tally)")
    exit(tally.failures == 0 ? 0 : 1)
  }

  static func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("tessera-fuzz: \(message)\n".utf8))
    exit(2)
  }
}

/// How one case ended.
enum Outcome: CustomStringConvertible {
  case accepted(String)
  case rejected(String, message: String)
  case unlocated(String, message: String)

  var isFailure: Bool {
    if case .unlocated = self { return true }
    return false
  }

  var description: String {
    switch self {
    case .accepted(let what): return "accepted: \(what)"
    case .rejected(let what, let message): return "rejected: \(what)\n  \(message)"
    case .unlocated(let what, let message): return "UNLOCATED REJECTION: \(what)\n  \(message)"
    }
  }
}

struct Tally: CustomStringConvertible {
  var accepted = 0, rejected = 0, failures = 0

  mutating func add(_ outcome: Outcome) {
    switch outcome {
    case .accepted: accepted += 1
    case .rejected: rejected += 1
    case .unlocated: failures += 1
    }
  }

  var description: String {
    "\(accepted + rejected + failures) run, \(accepted) accepted, \(rejected) rejected with file and line or key, "
      + "\(failures) unlocated, 0 crashes, 0 hangs"
  }
}
