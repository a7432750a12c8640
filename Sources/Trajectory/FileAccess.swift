#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The whole file at `path`.
func readFileBytes(atPath path: String) throws -> [UInt8] {
  let descriptor = open(path, O_RDONLY | O_CLOEXEC)
  guard descriptor >= 0 else { throw systemError(path, "cannot open for reading") }
  defer { close(descriptor) }
  var bytes: [UInt8] = []
  var chunk = [UInt8](repeating: 0, count: 1 << 20)
  while true {
    let count = chunk.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
    if count == 0 { return bytes }
    if count > 0 {
      bytes.append(contentsOf: chunk[..<count])
    } else if errno != EINTR {
      throw systemError(path, "cannot read")
    }
  }
}

/// An error naming the failed operation and the system's reason (errno, read right away).
private func systemError(_ path: String, _ operation: String) -> ExtendedXYZError {
  ExtendedXYZError(fileName: path, line: nil, message: "\(operation): \(String(cString: strerror(errno)))")
}
