import Foundation
import Synchronization

/// What to print if the process dies or stalls inside a case: the case's replay line, kept in a
/// buffer that a signal handler can write without allocating.
enum CrashReport {
  nonisolated(unsafe) private static let buffer = UnsafeMutablePointer<CChar>.allocate(capacity: 8192)
  nonisolated(unsafe) private static var length = 0
  /// Bumped at every case; the watchdog compares it with what it saw last time.
  private static let progress = Atomic<Int>(0)

  static func begin(_ text: String) {
    let bytes = Array("\nFUZZ FAILURE: \(text)\n".utf8.prefix(8191))
    for (i, b) in bytes.enumerated() { buffer[i] = CChar(bitPattern: b) }
    length = bytes.count
    progress.add(1, ordering: .relaxed)
  }

  /// A trap (SIGILL/SIGTRAP), a bad access or an abort prints the case, then dies of the same
  /// signal so the parent sees how it ended.
  static func installSignalHandlers() {
    for signal in [SIGILL, SIGTRAP, SIGSEGV, SIGBUS, SIGFPE, SIGABRT] {
      Glibc.signal(signal) { number in
        _ = write(2, CrashReport.buffer, CrashReport.length)
        let text = "the case above died of signal \(number)\n"
        _ = text.withCString { write(2, $0, strlen($0)) }
        Glibc.signal(number, SIG_DFL)
        raise(number)
      }
    }
  }

  /// A case that runs longer than `seconds` is a hang: print it and exit with status 3.
  static func startWatchdog(seconds: Double) {
    let thread = Thread {
      var seen = progress.load(ordering: .relaxed)
      var since = Date()
      while true {
        Thread.sleep(forTimeInterval: 0.25)
        let now = progress.load(ordering: .relaxed)
        if now != seen {
          seen = now
          since = Date()
        } else if Date().timeIntervalSince(since) > seconds {
          _ = write(2, buffer, length)
          let text = "the case above ran longer than \(seconds) s (hang)\n"
          _ = text.withCString { write(2, $0, strlen($0)) }
          _exit(3)
        }
      }
    }
    thread.start()
  }
}
