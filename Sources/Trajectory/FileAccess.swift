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

/// Replaces the file at `path` so that it holds either its old content or all of `text`, never a part:
/// the text goes to a new file in the same directory (a rename cannot cross file systems), reaches the disk
/// with fsync, and only then is renamed over `path`, which POSIX makes atomic.
func replaceFileAtomically(atPath path: String, with text: String) throws {
  let slash = path.lastIndex(of: "/")
  let directory = slash.map { $0 == path.startIndex ? "/" : String(path[..<$0]) } ?? "."
  let name = slash.map { String(path[path.index(after: $0)...]) } ?? path
  let temporaryPath = "\(directory)/.\(name).\(getpid()).\(String(UInt32.random(in: .min ... .max), radix: 16)).tmp"

  let descriptor = open(temporaryPath, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o666)
  guard descriptor >= 0 else { throw systemError(path, "cannot create the temporary file \(temporaryPath)") }
  do {
    defer { close(descriptor) }
    try writeAll(text, to: descriptor, reportingAs: path)
    guard fsync(descriptor) == 0 else { throw systemError(path, "cannot flush \(temporaryPath) to disk") }
  } catch {
    unlink(temporaryPath)
    throw error
  }
  guard rename(temporaryPath, path) == 0 else {
    let error = systemError(path, "cannot rename \(temporaryPath) over it")
    unlink(temporaryPath)
    throw error
  }
  // The rename itself is durable only once the directory is; the file is complete either way, so a failure
  // here (some file systems cannot sync directories) is not worth failing the write for.
  let directoryDescriptor = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
  if directoryDescriptor >= 0 {
    fsync(directoryDescriptor)
    close(directoryDescriptor)
  }
}

private func writeAll(_ text: String, to descriptor: Int32, reportingAs path: String) throws {
  var text = text
  try text.withUTF8 { buffer in
    var offset = 0
    while offset < buffer.count {
      let written = write(descriptor, buffer.baseAddress! + offset, buffer.count - offset)
      if written >= 0 {
        offset += written
      } else if errno != EINTR {
        throw systemError(path, "cannot write")
      }
    }
  }
}

/// An error naming the failed operation and the system's reason (errno, read right away).
private func systemError(_ path: String, _ operation: String) -> ExtendedXYZError {
  ExtendedXYZError(fileName: path, line: nil, message: "\(operation): \(String(cString: strerror(errno)))")
}
