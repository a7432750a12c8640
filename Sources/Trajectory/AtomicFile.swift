import Glibc

/// Replaces whole files so that readers and crashes see the old content or all of the new, never a part:
/// the bytes go to a new file in the same directory (a rename cannot cross file systems), reach the disk
/// with fsync, and only then is it renamed over the target, which POSIX makes atomic. Every writer of
/// complete files (extended XYZ, data files, restarts, per-frame dumps) goes through here.
public enum AtomicFile {
  public static func write(_ text: String, to path: String) throws {
    var text = text
    try text.withUTF8 { try write(contentsOf: UnsafeRawBufferPointer($0), to: path) }
  }

  public static func write(contentsOf bytes: UnsafeRawBufferPointer, to path: String) throws {
    let slash = path.lastIndex(of: "/")
    let directory = slash.map { $0 == path.startIndex ? "/" : String(path[..<$0]) } ?? "."
    let name = slash.map { String(path[path.index(after: $0)...]) } ?? path
    let temporaryPath = "\(directory)/.\(name).\(getpid()).\(String(UInt32.random(in: .min ... .max), radix: 16)).tmp"

    let descriptor = open(temporaryPath, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o666)
    guard descriptor >= 0 else { throw FileWriteError(path, "cannot create the temporary file \(temporaryPath)") }
    do {
      defer { close(descriptor) }
      try writeAll(bytes, to: descriptor, reportingAs: path)
      guard fsync(descriptor) == 0 else { throw FileWriteError(path, "cannot flush \(temporaryPath) to disk") }
    } catch {
      unlink(temporaryPath)
      throw error
    }
    guard rename(temporaryPath, path) == 0 else {
      let error = FileWriteError(path, "cannot rename \(temporaryPath) over it")
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

  private static func writeAll(_ bytes: UnsafeRawBufferPointer, to descriptor: Int32, reportingAs path: String) throws {
    var offset = 0
    while offset < bytes.count {
      let written = Glibc.write(descriptor, bytes.baseAddress! + offset, bytes.count - offset)
      if written >= 0 {
        offset += written
      } else if errno != EINTR {
        throw FileWriteError(path, "cannot write")
      }
    }
  }
}

/// A file that could not be written: "PATH: operation: the system's reason".
public struct FileWriteError: Error, CustomStringConvertible, Sendable {
  public let description: String

  /// Reads errno right away, so call it straight after the failed call.
  init(_ path: String, _ operation: String) {
    description = "\(path): \(operation): \(String(cString: strerror(errno)))"
  }
}
