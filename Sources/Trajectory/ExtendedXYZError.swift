/// A malformed extended XYZ file or a failed file operation, located like a compiler diagnostic.
public struct ExtendedXYZError: Error, CustomStringConvertible, Sendable, Equatable {
  public var fileName: String
  /// 1-based line the problem was found on; nil for problems with the file as a whole (reading, writing).
  public var line: Int?
  /// What was expected and what was found instead.
  public var message: String

  public init(fileName: String, line: Int?, message: String) {
    self.fileName = fileName
    self.line = line
    self.message = message
  }

  /// "FILE:LINE: message", or "FILE: message" without a line.
  public var description: String {
    if let line { return "\(fileName):\(line): \(message)" }
    return "\(fileName): \(message)"
  }
}
