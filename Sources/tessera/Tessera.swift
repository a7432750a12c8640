import ArgumentParser
import Communication
import Foundation
import InputDeck
import Output
import Simulation

@main
struct Tessera: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Distributed-memory molecular dynamics with Deep Potential models.",
    version: tesseraVersion,
    subcommands: [Run.self, Check.self, Eval.self])

  /// A command line that does not start with a subcommand is LAMMPS's (`tessera -i in.lammps -v t
  /// 300`, `tessera < in.lammps`), so workflows that start `lmp` can start Tessera unchanged. In the
  /// subcommands, LAMMPS's `-var NAME VALUE` is rewritten to argument-parser's `--var NAME=VALUE`.
  static func main() {
    // Past a file-size limit (RLIMIT_FSIZE, a quota) a write must fail with EFBIG, reported with its
    // path, rather than kill the rank with SIGXFSZ.
    signal(SIGXFSZ, SIG_IGN)
    var arguments = Array(CommandLine.arguments.dropFirst())
    if LammpsCommandLine.applies(to: arguments) {
      do {
        try execute(try LammpsCommandLine.parse(arguments), job: .run)
      } catch {
        exit(withError: error)
      }
      return
    }
    var i = 0
    while i < arguments.count {
      if ["-var", "-v"].contains(arguments[i]) && i + 2 < arguments.count {
        arguments.replaceSubrange(i...(i + 2), with: ["--var", "\(arguments[i + 1])=\(arguments[i + 2])"])
      }
      i += 1
    }
    do {
      var command = try parseAsRoot(arguments)
      try command.run()
    } catch {
      exit(withError: error)
    }
  }
}

let tesseraVersion = "0.1.0"

/// Options shared by `run` and `check`.
struct DeckOptions: ParsableArguments {
  @Argument(help: "The input deck (LAMMPS syntax).")
  var deck: String

  @Option(name: .customLong("var"), help: ArgumentHelp("Defines an index variable, as LAMMPS -var NAME VALUE.", valueName: "NAME=VALUE"))
  var variables: [String] = []

  @Option(name: .customLong("log"), help: "Log file (default: log.tessera; 'none' for no log).")
  var log: String = "log.tessera"

  @Option(name: .customLong("max-walltime"),
          help: ArgumentHelp("Stop cleanly with a restart after this wall time (as a batch system's limit).",
                             valueName: "HH:MM:SS"))
  var maxWalltime: String?

  @Option(name: [.customLong("threads"), .customLong("threads", withSingleDash: true)],
          help: "Worker threads per rank for Deep Potential evaluation, unless pair_style deepmd gives 'threads N' (which wins).")
  var threads: Int = 1

  /// Seconds in `--max-walltime HH:MM:SS` (or MM:SS, or SS).
  func wallTimeLimit() throws -> Double? {
    guard let text = maxWalltime else { return nil }
    let parts = text.split(separator: ":", omittingEmptySubsequences: false).map { Int($0) }
    guard (1...3).contains(parts.count), parts.allSatisfy({ $0 != nil && $0! >= 0 }) else {
      throw ValidationError("--max-walltime expects HH:MM:SS, got '\(text)'")
    }
    return Double(parts.reduce(0) { $0 * 60 + $1! })
  }

  @Flag(inversion: .prefixedNo,
        help: "Progress (elapsed time, step rate, ETA) on standard error at thermo steps of long runs (default: when standard error is a terminal).")
  var progress: Bool?

  @Option(name: .customLong("progress-after"),
          help: ArgumentHelp("Report progress only for runs expected to take at least this long.", valueName: "SECONDS"))
  var progressAfter: Double = 60

  func settings() throws -> JobSettings {
    guard progressAfter >= 0 else { throw ValidationError("--progress-after expects seconds ≥ 0, got \(progressAfter)") }
    guard threads >= 1 else { throw ValidationError("--threads expects a positive thread count, got \(threads)") }
    let named = try variables.map { v in
      guard let eq = v.firstIndex(of: "="), eq != v.startIndex else {
        throw ValidationError("-var expects NAME VALUE, got '\(v)'")
      }
      return (name: String(v[..<eq]), values: [String(v[v.index(after: eq)...])])
    }
    return JobSettings(deck: .file(deck), variables: named, log: log == "none" ? nil : log,
                       wallTimeLimit: try wallTimeLimit(), threads: threads,
                       progress: (progress ?? (isatty(STDERR_FILENO) == 1)) ? ProgressReport(minimumRunSeconds: progressAfter) : nil)
  }
}

/// What a job runs and where its output goes, from either command line.
struct JobSettings {
  enum Deck {
    case file(String)
    /// Read by rank 0 and shared with every rank (mpirun gives standard input to rank 0 only).
    case standardInput
  }
  var deck: Deck
  var variables: [(name: String, values: [String])] = []
  /// nil: no log file.
  var log: String? = "log.tessera"
  /// `-screen`: `.standardOutput`, a file, or nothing.
  var screen: ScreenTarget = .standardOutput
  var echo = false
  var wallTimeLimit: Double?
  var threads = 1
  /// Progress lines on standard error; nil: none.
  var progress: ProgressReport?

  enum ScreenTarget { case standardOutput, none, file(String) }

  var deckName: String {
    switch deck {
    case .file(let path): return path
    case .standardInput: return "standard input"
    }
  }
}

extension Tessera {
  struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run a deck: mpirun -np N tessera run in.deck")
    @OptionGroup var options: DeckOptions

    func run() throws {
      try execute(try options.settings(), job: .run)
    }
  }

  struct Check: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Parse and validate a deck, its data and model files, without running or writing anything.")
    @OptionGroup var options: DeckOptions

    @Option(name: .customLong("np", withSingleDash: true),
            help: "Report the processor grid and sub-domains for this many ranks (default: the ranks running the check).")
    var ranks: Int?

    func run() throws {
      if let ranks, ranks < 1 { throw ValidationError("-np expects a positive rank count, got \(ranks)") }
      try execute(try options.settings(), job: .check(plannedRanks: ranks))
    }
  }
}

/// Runs or checks a deck on every rank. Errors that all ranks see (the deck is read by all) are
/// printed once by rank 0 and end every rank with status 1.
func execute(_ settings: JobSettings, job: Job) throws {
  let startTime = StepTimer.now()
  let comm = MPICommunicator()
  let console = Console(isWriter: comm.isRoot)
  let simulation = Simulation(comm: comm, console: console, job: job)
  simulation.jobStart = startTime
  simulation.programVersion = tesseraVersion
  StopRequest.installSignalHandlers()
  do {
    simulation.wallTimeLimit = settings.wallTimeLimit
    simulation.modelThreads = settings.threads
    for v in settings.variables { try simulation.variables.defineFromCommandLine(v.name, values: v.values) }
    switch settings.screen {
    case .standardOutput: break
    case .none: try console.redirectScreen(to: nil)
    case .file(let path): try console.redirectScreen(to: path)
    }
    console.echo = settings.echo
    console.progress = settings.progress
    if let log = settings.log { try console.openLog(log) }
    console.line("Tessera \(tesseraVersion) (\(comm.size) MPI rank\(comm.size == 1 ? "" : "s"))")
    let interpreter = Interpreter(simulation: simulation)
    switch settings.deck {
    case .file(let path): try interpreter.execute(file: path)
    case .standardInput:
      let bytes = comm.isRoot ? [UInt8](FileHandle.standardInput.readDataToEndOfFile()) : []
      let shared = comm.allGatherBytes(bytes)[0]
      guard let text = String(bytes: shared, encoding: .utf8) else {
        throw DeckError("not valid UTF-8 text", at: SourceLocation(file: settings.deckName, line: DeckReader.firstLineNotUTF8(Data(shared))))
      }
      try interpreter.execute(text: text, name: settings.deckName)
    }
    if case .check = job { console.line("check: \(settings.deckName) is valid") }
    console.line("Total wall time: \(formatWallTime(StepTimer.now() - startTime))")
  } catch let stop as StoppedEarly {
    console.line("\(stop)")
    console.line("Total wall time: \(formatWallTime(StepTimer.now() - startTime))")
  } catch {
    console.error("ERROR: \(error)")
    simulation.closeOutputs()
    console.closeLog()
    comm.finalize()
    throw ExitCode(1)
  }
  simulation.closeOutputs()
  console.closeLog()
  comm.finalize()
}

func formatWallTime(_ seconds: Double) -> String {
  let s = Int(seconds)
  return String(format: "%d:%02d:%02d", s / 3600, (s / 60) % 60, s % 60)
}
