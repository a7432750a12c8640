/// A failure writing an H5MD file, worded for the user: the path and the object that failed are in the text.
public struct H5MDError: Error, CustomStringConvertible, Sendable {
  public let description: String
  public init(_ description: String) { self.description = description }
}
