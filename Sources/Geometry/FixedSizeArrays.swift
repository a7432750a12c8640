extension InlineArray {
  /// The elements as an Array: for results leaving the timestep (output, reductions of variable
  /// length), where fixed-size storage is no longer needed.
  public var elements: [Element] { indices.map { self[$0] } }
}
