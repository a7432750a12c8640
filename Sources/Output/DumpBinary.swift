import Foundation

extension GatheredAtoms {
  /// A frame in LAMMPS's binary dump layout (format revision 2, as `dump atom|custom … FILE.bin` writes
  /// it and OVITO and LAMMPS's tools/binary2txt read it), little-endian: the negated length of the magic
  /// string (`DUMPATOM` or `DUMPCUSTOM`) as int64 and the string; int32 endian flag 1 and revision 2;
  /// int64 step and atom count; int32 triclinic flag and six boundary codes (0 periodic, 1 fixed); the box
  /// bounds as doubles (for a tilted box its bounding box, then xy xz yz, as the text header); int32
  /// columns per atom; int32 unit-style length 0 and char time flag 0 (neither is written); int32
  /// length and the column names; int32 chunk count 1; then the chunk: int32 value count and the doubles.
  public func binary(_ fields: [DumpField], columns: String, magic: String) -> [UInt8] {
    let b = box
    var bytes: [UInt8] = []
    bytes.reserveCapacity(256 + 8 * count * fields.count)
    func append<T: FixedWidthInteger>(_ value: T) { withUnsafeBytes(of: value.littleEndian) { bytes += $0 } }
    func append(_ value: Double) { append(value.bitPattern) }
    append(Int64(-magic.utf8.count))
    bytes += magic.utf8
    append(Int32(1))
    append(Int32(2))
    append(Int64(step))
    append(Int64(count))
    append(Int32(b.isTriclinic ? 1 : 0))
    for k in 0..<3 {
      append(Int32(b.periodic[k] ? 0 : 1))
      append(Int32(b.periodic[k] ? 0 : 1))
    }
    if b.isTriclinic {
      let (lo, hi) = boundingBox()
      for k in 0..<3 { append(lo[k]); append(hi[k]) }
      for v in [b.xy, b.xz, b.yz] { append(v) }
    } else {
      for k in 0..<3 { append(b.lo[k]); append(b.hi[k]) }
    }
    append(Int32(fields.count))
    append(Int32(0))
    bytes.append(0)
    append(Int32(columns.utf8.count))
    bytes += columns.utf8
    append(Int32(1))
    append(Int32(count * fields.count))
    for i in 0..<count {
      for field in fields { append(value(field, i)) }
    }
    return bytes
  }
}
