import Glibc

/// Text assembled from printf conversions by the C library (vsnprintf): the same bytes as Foundation's
/// `String(format:)`, at a fraction of its cost per value, which is what a million-atom text dump needs.
struct PrintfText {
  private(set) var bytes: [UInt8] = []
  private var scratch = [CChar](repeating: 0, count: 64)

  init(reservingCapacity capacity: Int) { bytes.reserveCapacity(capacity) }

  /// One conversion of `value` by `format` (a NUL-terminated printf format).
  mutating func append(_ format: [CChar], _ value: CVarArg) {
    while true {
      let needed = withVaList([value]) { arguments in
        scratch.withUnsafeMutableBufferPointer { vsnprintf($0.baseAddress, $0.count, format, arguments) }
      }
      if needed < scratch.count {
        scratch.withUnsafeBufferPointer { buffer in
          buffer.withMemoryRebound(to: UInt8.self) { bytes.append(contentsOf: $0.prefix(Int(max(needed, 0)))) }
        }
        return
      }
      scratch = [CChar](repeating: 0, count: Int(needed) + 1)
    }
  }

  mutating func append(_ text: String) { bytes.append(contentsOf: text.utf8) }
  mutating func append(byte: UInt8) { bytes.append(byte) }

  var string: String { String(decoding: bytes, as: UTF8.self) }
}
