/// An owned atom's full state flattened to doubles, the unit atom migration sends between ranks.
/// Tags and images are far below 2^53 and travel exactly.
public enum AtomRecord {
  public static let width = 12

  public static func pack(_ atoms: AtomStore, _ i: Int, into buffer: inout [Double]) {
    let x = atoms.positionOf(i), v = atoms.velocityOf(i), m = atoms.imageOf(i)
    buffer.append(contentsOf: [x.x, x.y, x.z, v.x, v.y, v.z, Double(atoms.type[i]), Double(atoms.tag[i]),
                               Double(m.x), Double(m.y), Double(m.z), 0])
  }

  public static func unpack(_ buffer: UnsafeBufferPointer<Double>, at offset: Int, into atoms: AtomStore) {
    let b = buffer.baseAddress! + offset
    atoms.appendOwned(tag: Int64(b[7]), type: Int32(b[6]), position: SIMD3(b[0], b[1], b[2]),
                      velocity: SIMD3(b[3], b[4], b[5]),
                      image: SIMD3(Int32(b[8]), Int32(b[9]), Int32(b[10])))
  }

  /// Position of the record at `offset`.
  public static func position(_ buffer: UnsafeBufferPointer<Double>, at offset: Int) -> SIMD3<Double> {
    SIMD3(buffer[offset], buffer[offset + 1], buffer[offset + 2])
  }
}
