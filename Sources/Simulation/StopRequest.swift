import Foundation

/// A request to end the job early and cleanly: SIGTERM or SIGUSR1 (what Slurm sends before its
/// kill, `--signal`), or the wall-time limit of `--max-walltime`. The run notices it at the end of
/// a step on every rank together, writes a restart and stops the deck with exit status 0.
public enum StopRequest {
  /// Set from the signal handler; only ever written there and read by the run loop.
  nonisolated(unsafe) static var caughtSignal: Int32 = 0

  /// Installs the handlers for SIGTERM and SIGUSR1.
  public static func installSignalHandlers() {
    for signalNumber in [SIGTERM, SIGUSR1] {
      signal(signalNumber) { caught in StopRequest.caughtSignal = caught }
    }
  }

  static var signalName: String? {
    switch caughtSignal {
    case 0: return nil
    case SIGTERM: return "SIGTERM"
    case SIGUSR1: return "SIGUSR1"
    default: return "signal \(caughtSignal)"
    }
  }
}

/// Thrown out of a run when a stop was requested and the restart is written; not an error.
public struct StoppedEarly: Error, CustomStringConvertible {
  public let description: String
}
