/// Per-type masses, indexed by the 1-based LAMMPS type.
public struct Masses: Sendable {
  public private(set) var values: [Double]
  public private(set) var isSet: [Bool]

  public init(typeCount: Int) {
    values = [Double](repeating: 0, count: typeCount + 1)
    isSet = [Bool](repeating: false, count: typeCount + 1)
  }

  public var typeCount: Int { values.count - 1 }

  /// Inlinable: read per atom in every integrator's loop.
  @inlinable public subscript(type: Int32) -> Double { values[Int(type)] }

  public mutating func set(type: Int, mass: Double) {
    values[type] = mass
    isSet[type] = true
  }

  /// The first type without a mass, if any.
  public var firstUnset: Int? { (1...typeCount).first { !isSet[$0] } }
}
