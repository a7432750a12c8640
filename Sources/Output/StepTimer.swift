import Foundation

/// Wall time per phase of a timestep, as LAMMPS's timing breakdown (`timer->stamp`).
public final class StepTimer {
  public enum Phase: Int, CaseIterable, Sendable {
    case pair, neighbor, communication, output, modify
    public var label: String {
      switch self {
      case .pair: "Pair"
      case .neighbor: "Neigh"
      case .communication: "Comm"
      case .output: "Output"
      case .modify: "Modify"
      }
    }
  }

  public private(set) var seconds = [Double](repeating: 0, count: Phase.allCases.count)
  private var last = 0.0

  public init() {}

  public static func now() -> Double {
    var t = timespec()
    clock_gettime(CLOCK_MONOTONIC, &t)
    return Double(t.tv_sec) + 1e-9 * Double(t.tv_nsec)
  }

  public func reset() {
    seconds = [Double](repeating: 0, count: Phase.allCases.count)
    last = Self.now()
  }

  public func start() { last = Self.now() }

  /// Charges the time since the previous stamp to `phase`.
  public func stamp(_ phase: Phase) {
    let t = Self.now()
    seconds[phase.rawValue] += t - last
    last = t
  }
}
