import Foundation
import Geometry

/// The contents of a restart file: everything a deck needs to continue a run exactly, except the
/// force field, which the deck defines again (as for DeePMD-kit models in LAMMPS) and which must
/// match the one recorded.
///
/// Layout: the magic line, a JSON header (length-prefixed), the atoms as raw little-endian records
/// sorted by id (id, type, image ×3, position ×3, velocity ×3, then the fixes' per-atom numbers in the
/// order of `fixes`), and an FNV-1a 64-bit checksum of
/// everything before it, so a truncated or damaged file is refused rather than half read.
struct RestartFile {
  struct Header: Codable {
    var version = 1
    var units: String
    var step: Int
    /// Simulated time `elapsedTime` at step `timeOriginStep` (LAMMPS `atime`, `atimestep`; absent in
    /// older files, whose `elapsedTime` is the time at `step`) and the timestep.
    var elapsedTime: Double
    var timeOriginStep: Int?
    var timestep: Double?
    var boxLo: [Double]
    var boxLength: [Double]
    var tilts: [Double]
    var periodic: [Bool]
    var triclinic: Bool
    var masses: [Double]
    var atomCount: Int
    var fixes: [FixRecord]
    /// The pair style line and, for a Deep Potential, the model file's checksum.
    var forceField: String
    var modelChecksum: String?
    /// The processor grid the run used (absent in older files): the same rank count continues on the
    /// same grid, which a box changed by a barostat would otherwise re-choose differently.
    var processorGrid: [Int]?
  }

  struct FixRecord: Codable {
    var id: String
    var style: String
    var state: [Double]
    /// Numbers per atom the fix keeps (absent: none), stored after each atom's record.
    var perAtom: Int?
  }

  static let magic = Array("TESSERA RESTART\n".utf8)
  static let recordBytes = 8 + 4 + 12 + 24 + 24

  var header: Header
  /// Per atom, sorted by id.
  var ids: [Int64]
  var types: [Int32]
  var images: [Int32]
  var positions: [Double]
  var velocities: [Double]
  /// The fixes' per-atom numbers, `perAtomWidth` per atom.
  var fixValues: [Double]

  /// Numbers per atom all fixes keep together.
  var perAtomWidth: Int { header.fixes.reduce(0) { $0 + ($1.perAtom ?? 0) } }

  func encoded() throws -> Data {
    var data = Data(RestartFile.magic)
    let encoder = JSONEncoder()
    encoder.outputFormatting = .sortedKeys
    let json = try encoder.encode(header)
    append(UInt64(json.count), to: &data)
    data.append(json)
    let width = perAtomWidth
    data.reserveCapacity(data.count + ids.count * (RestartFile.recordBytes + 8 * width) + 8)
    for i in ids.indices {
      append(UInt64(bitPattern: ids[i]), to: &data)
      append(UInt32(bitPattern: types[i]), to: &data)
      for k in 0..<3 { append(UInt32(bitPattern: images[3 * i + k]), to: &data) }
      for k in 0..<3 { append(positions[3 * i + k].bitPattern, to: &data) }
      for k in 0..<3 { append(velocities[3 * i + k].bitPattern, to: &data) }
      for k in 0..<width { append(fixValues[width * i + k].bitPattern, to: &data) }
    }
    append(RestartFile.checksum(data), to: &data)
    return data
  }

  init(header: Header, ids: [Int64], types: [Int32], images: [Int32], positions: [Double], velocities: [Double],
       fixValues: [Double]) {
    self.header = header
    self.ids = ids
    self.types = types
    self.images = images
    self.positions = positions
    self.velocities = velocities
    self.fixValues = fixValues
  }

  /// Reads and verifies a restart file; every problem names the file.
  init(path: String) throws {
    guard let data = FileManager.default.contents(atPath: path) else {
      throw RestartError("\(path): cannot read the restart file")
    }
    let bytes = [UInt8](data)
    func fail(_ what: String) -> RestartError { RestartError("\(path): \(what)") }
    guard bytes.count >= RestartFile.magic.count + 16, Array(bytes.prefix(RestartFile.magic.count)) == RestartFile.magic else {
      throw fail("not a Tessera restart file")
    }
    let stored = RestartFile.read(UInt64.self, bytes, at: bytes.count - 8)
    guard RestartFile.checksum(Data(bytes[0..<(bytes.count - 8)])) == stored else {
      throw fail("checksum mismatch: the file is truncated or damaged")
    }
    var offset = RestartFile.magic.count
    let jsonLength = Int(RestartFile.read(UInt64.self, bytes, at: offset))
    offset += 8
    guard jsonLength <= bytes.count - offset - 8 else { throw fail("header length out of range") }
    do {
      header = try JSONDecoder().decode(Header.self, from: Data(bytes[offset..<(offset + jsonLength)]))
    } catch {
      throw fail("unreadable header (\(error))")
    }
    guard header.version == 1 else { throw fail("restart format version \(header.version) is not supported") }
    offset += jsonLength
    let n = header.atomCount
    let width = header.fixes.reduce(0) { $0 + ($1.perAtom ?? 0) }
    guard n >= 0, width >= 0, bytes.count - offset - 8 == n * (RestartFile.recordBytes + 8 * width) else {
      throw fail("expected \(n) atom records")
    }
    ids = []; types = []; images = []; positions = []; velocities = []; fixValues = []
    for _ in 0..<n {
      ids.append(Int64(bitPattern: RestartFile.read(UInt64.self, bytes, at: offset)))
      types.append(Int32(bitPattern: RestartFile.read(UInt32.self, bytes, at: offset + 8)))
      for k in 0..<3 { images.append(Int32(bitPattern: RestartFile.read(UInt32.self, bytes, at: offset + 12 + 4 * k))) }
      for k in 0..<3 { positions.append(Double(bitPattern: RestartFile.read(UInt64.self, bytes, at: offset + 24 + 8 * k))) }
      for k in 0..<3 { velocities.append(Double(bitPattern: RestartFile.read(UInt64.self, bytes, at: offset + 48 + 8 * k))) }
      offset += RestartFile.recordBytes
      for _ in 0..<width {
        fixValues.append(Double(bitPattern: RestartFile.read(UInt64.self, bytes, at: offset)))
        offset += 8
      }
    }
  }

  var box: Box {
    var box = Box(lo: SIMD3(header.boxLo[0], header.boxLo[1], header.boxLo[2]),
                  hi: SIMD3(header.boxLo[0] + header.boxLength[0], header.boxLo[1] + header.boxLength[1],
                            header.boxLo[2] + header.boxLength[2]),
                  xy: header.tilts[0], xz: header.tilts[1], yz: header.tilts[2], periodic: header.periodic,
                  triclinic: header.triclinic)
    // (lo + length) − lo is the stored length only to round-off; a barostat's box needs it exact.
    box.length = SIMD3(header.boxLength[0], header.boxLength[1], header.boxLength[2])
    return box
  }

  private func append<T: FixedWidthInteger>(_ value: T, to data: inout Data) {
    withUnsafeBytes(of: value.littleEndian) { data.append(contentsOf: $0) }
  }

  private static func read<T: FixedWidthInteger>(_: T.Type, _ bytes: [UInt8], at offset: Int) -> T {
    var value = T.zero
    for k in 0..<MemoryLayout<T>.size { value |= T(bytes[offset + k]) << (8 * k) }
    return value
  }

  /// FNV-1a, 64 bits: enough to catch truncation and bit rot (not an adversary).
  static func checksum(_ data: Data) -> UInt64 {
    var hash: UInt64 = 0xCBF2_9CE4_8422_2325
    for byte in data {
      hash ^= UInt64(byte)
      hash = hash &* 0x0000_0100_0000_01B3
    }
    return hash
  }
}

struct RestartError: Error, CustomStringConvertible {
  let description: String
  init(_ description: String) { self.description = description }
}
