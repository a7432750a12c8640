import Foundation

/// How far a run is, for the console's standard error on thermo steps (never the log file, which LAMMPS
/// tools parse): elapsed wall time, the step rate and the estimated time to the run's last step. Only runs
/// expected to last at least `minimumRunSeconds` report (a minute by default, `--progress-after`).
public struct ProgressReport: Sendable {
  public var minimumRunSeconds: Double

  public init(minimumRunSeconds: Double) { self.minimumRunSeconds = minimumRunSeconds }

  /// The line for `step` of a run from `first` to `last` started `elapsed` seconds ago, or nil when the run
  /// is expected to be shorter than the minimum (or has not taken a step yet).
  public func line(step: Int, first: Int, last: Int, elapsed: Double) -> String? {
    let done = step - first
    guard done > 0, last > first, elapsed > 0 else { return nil }
    let rate = Double(done) / elapsed
    let remaining = Double(last - step) / rate
    guard elapsed + remaining >= minimumRunSeconds else { return nil }
    let percent = 100 * Double(done) / Double(last - first)
    return String(format: "progress: step %d of %d (%.0f%%), elapsed %@, %.4g steps/s, ETA %@",
                  step, last, percent, Self.clock(elapsed), rate, Self.clock(remaining))
  }

  /// H:MM:SS.
  static func clock(_ seconds: Double) -> String {
    let s = Int(seconds.rounded())
    return String(format: "%d:%02d:%02d", s / 3600, (s / 60) % 60, s % 60)
  }
}
