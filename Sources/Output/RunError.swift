/// A failure during a run that every rank has detected together (a writer's, a fix's, the thermo
/// checks'): every rank throws it alike and the job stops with its message.
public struct RunError: Error, CustomStringConvertible {
  public let description: String
  public init(_ description: String) { self.description = description }
}
