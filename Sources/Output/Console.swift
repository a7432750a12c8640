import Foundation

/// Where rank 0 writes what users read: standard output and, when open, the log file (LAMMPS
/// `screen` and `logfile`). Other ranks write nothing.
public final class Console {
  public let isWriter: Bool
  private var log: FileHandle?
  public private(set) var logPath: String?
  public var echo = false
  /// Where `line` writes besides the log: standard output, a file (`-screen FILE`), or nowhere
  /// (`-screen none`). Errors always go to standard error.
  private var screen: FileHandle? = FileHandle.standardOutput
  /// False under `tessera check`, which writes no files: `openLog` then opens nothing.
  public var opensLogFiles = true

  public init(isWriter: Bool) { self.isWriter = isWriter }

  /// Opens (truncates, or appends to) a log file; closes the previous one.
  public func openLog(_ path: String, append: Bool = false) throws {
    guard isWriter && opensLogFiles else { return }
    closeLog()
    if !append || !FileManager.default.fileExists(atPath: path) {
      guard FileManager.default.createFile(atPath: path, contents: nil) else {
        throw OutputError("cannot open log file '\(path)' for writing")
      }
    }
    guard let handle = FileHandle(forWritingAtPath: path) else {
      throw OutputError("cannot open log file '\(path)' for writing")
    }
    if append { handle.seekToEndOfFile() }
    log = handle
    logPath = path
  }

  /// `-screen FILE|none`: nil sends the screen output nowhere.
  public func redirectScreen(to path: String?) throws {
    guard isWriter else { return }
    guard let path else { screen = nil; return }
    guard FileManager.default.createFile(atPath: path, contents: nil), let handle = FileHandle(forWritingAtPath: path) else {
      throw OutputError("cannot open screen file '\(path)' for writing")
    }
    screen = handle
  }

  public func closeLog() {
    try? log?.synchronize()
    try? log?.close()
    log = nil
    logPath = nil
  }

  /// Set when a write to the log failed (disk full, a file-size limit); the log is closed then and
  /// the run stops at its next thermo step with this message.
  public private(set) var writeFailure: String?

  /// Writes one line to the screen and the log.
  public func line(_ text: String = "") {
    guard isWriter else { return }
    let data = Data((text + "\n").utf8)
    try? screen?.write(contentsOf: data)
    writeLog(data)
  }

  /// Progress lines on thermo steps (`tessera run --progress`, or standard error is a terminal); nil: none.
  public var progress: ProgressReport?

  /// Writes a line to standard error only: progress, which the log (parsed by LAMMPS tools) never holds.
  public func progressLine(_ text: String) {
    guard isWriter else { return }
    try? FileHandle.standardError.write(contentsOf: Data((text + "\n").utf8))
  }

  /// Writes a message to standard error and the log (errors and warnings).
  public func error(_ text: String) {
    guard isWriter else { return }
    let data = Data((text + "\n").utf8)
    try? FileHandle.standardError.write(contentsOf: data)
    writeLog(data)
  }

  private func writeLog(_ data: Data) {
    guard let log, let path = logPath else { return }
    do {
      try log.write(contentsOf: data)
    } catch {
      writeFailure = "cannot write log file '\(path)': \(writeFailureReason(error))"
      closeLog()
    }
  }

  public func flush() { try? log?.synchronize() }
}

public struct OutputError: Error, CustomStringConvertible {
  public let description: String
  public init(_ description: String) { self.description = description }
}

/// Why a file write failed, in the system's words ("File too large", "No space left on device").
public func writeFailureReason(_ error: Error) -> String {
  let ns = error as NSError
  if let underlying = ns.userInfo[NSUnderlyingErrorKey] as? NSError, underlying.domain == NSPOSIXErrorDomain {
    return String(cString: strerror(Int32(underlying.code)))
  }
  if ns.domain == NSPOSIXErrorDomain { return String(cString: strerror(Int32(ns.code))) }
  return ns.localizedDescription
}
