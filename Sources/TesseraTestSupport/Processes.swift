import Foundation

/// What a finished child process printed and how it ended.
public struct ProcessResult {
  public var status: Int32
  public var output: String
  public var error: String
  public var combined: String { output + error }

  public init(status: Int32, output: String, error: String) {
    self.status = status
    self.output = output
    self.error = error
  }
}

/// Runs a program to completion, capturing standard output and error.
public func runProcess(_ executable: String, _ arguments: [String], in directory: URL? = nil,
                       environment extra: [String: String] = [:]) throws -> ProcessResult {
  var environment = ProcessInfo.processInfo.environment
  for (k, v) in mpiEnvironment.merging(extra, uniquingKeysWith: { $1 }) { environment[k] = v }
  let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("tessera-proc-\(UUID().uuidString)")
  try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
  defer { try? FileManager.default.removeItem(at: scratch) }
  return try startProcess(executable, arguments, in: directory, environment: environment,
                          output: scratch.appendingPathComponent("out"),
                          error: scratch.appendingPathComponent("err")).waitForResult()
}

/// A child process whose standard output and error go to files.
public struct StartedProcess {
  public let process: Process
  let output: URL, error: URL

  /// Waits for the child to exit and reads what it printed.
  public func waitForResult() -> ProcessResult {
    process.waitUntilExit()
    return ProcessResult(status: process.terminationStatus,
                         output: (try? String(contentsOf: output, encoding: .utf8)) ?? "",
                         error: (try? String(contentsOf: error, encoding: .utf8)) ?? "")
  }
}

/// Starts a program without waiting, its standard output and error going to the files `output` and
/// `error` (files, not pipes: a chatty child cannot block on a full pipe while we wait for it), with
/// `environment` in full, or this process's when nil.
public func startProcess(_ executable: String, _ arguments: [String], in directory: URL? = nil,
                         environment: [String: String]? = nil, output: URL, error: URL) throws -> StartedProcess {
  let process = Process()
  process.executableURL = URL(fileURLWithPath: executable)
  process.arguments = arguments
  if let directory { process.currentDirectoryURL = directory }
  if let environment { process.environment = environment }
  FileManager.default.createFile(atPath: output.path, contents: nil)
  FileManager.default.createFile(atPath: error.path, contents: nil)
  process.standardOutput = try FileHandle(forWritingTo: output)
  process.standardError = try FileHandle(forWritingTo: error)
  try process.run()
  return StartedProcess(process: process, output: output, error: error)
}

/// Open MPI settings every test run needs: root is allowed (CI runs as root), oversubscription too.
public let mpiEnvironment: [String: String] = [
  "OMPI_ALLOW_RUN_AS_ROOT": "1", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM": "1",
  "OMPI_MCA_rmaps_base_oversubscribe": "1", "OMPI_MCA_btl_vader_single_copy_mechanism": "none",
  "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1",
]

/// The `tessera` executable under test: `TESSERA_BINARY`, else the release build, else debug.
public var tesseraBinary: String {
  if let path = ProcessInfo.processInfo.environment["TESSERA_BINARY"] { return path }
  for configuration in ["release", "debug"] {
    let path = repositoryRoot.appendingPathComponent(".build/\(configuration)/tessera").path
    if FileManager.default.isExecutableFile(atPath: path) { return path }
  }
  return repositoryRoot.appendingPathComponent(".build/debug/tessera").path
}

/// Runs `tessera ARGS` under `mpirun -np RANKS --oversubscribe`.
public func runTessera(ranks: Int, _ arguments: [String], in directory: URL) throws -> ProcessResult {
  try runProcess("/usr/bin/mpirun", ["--oversubscribe", "-np", "\(ranks)", tesseraBinary] + arguments, in: directory)
}

/// Starts `tessera ARGS` without waiting (under `mpirun -np RANKS --oversubscribe` when `ranks` > 0,
/// alone otherwise), standard output and error going to the file `output`: for tests that signal or
/// kill a running job and read what it printed so far.
public func startTessera(ranks: Int, _ arguments: [String], in directory: URL, output: URL) throws -> Process {
  let process = Process()
  if ranks > 0 {
    process.executableURL = URL(fileURLWithPath: "/usr/bin/mpirun")
    process.arguments = ["--oversubscribe", "-np", "\(ranks)", tesseraBinary] + arguments
  } else {
    process.executableURL = URL(fileURLWithPath: tesseraBinary)
    process.arguments = arguments
  }
  process.currentDirectoryURL = directory
  process.environment = ProcessInfo.processInfo.environment.merging(mpiEnvironment) { $1 }
  FileManager.default.createFile(atPath: output.path, contents: nil)
  process.standardOutput = try FileHandle(forWritingTo: output)
  process.standardError = process.standardOutput
  try process.run()
  return process
}

/// Thermo rows printed by Tessera or LAMMPS: for each run, the rows under a header line starting
/// with "Step", keyed by the header's column names.
public func thermoRows(_ output: String) -> [[String: Double]] {
  var rows: [[String: Double]] = []
  var header: [String]?
  for line in output.split(separator: "\n") {
    let words = line.split(separator: " ").map(String.init)
    if words.first == "Step" { header = words; continue }
    guard let h = header else { continue }
    let values = words.compactMap(Double.init)
    if values.count == h.count && words.count == h.count {
      rows.append(Dictionary(uniqueKeysWithValues: zip(h, values)))
    } else {
      header = nil
    }
  }
  return rows
}
