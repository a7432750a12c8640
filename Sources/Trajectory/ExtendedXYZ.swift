/// Extended XYZ files as ASE reads and writes them (`ase.io.extxyz`).
///
/// A frame is an atom count line, a comment line of `key=value` pairs (`Lattice`, `Properties`, `pbc` and
/// free-form info), and one line per atom whose columns `Properties` declares. Reading follows ASE's
/// conversions; writing follows ASE's layout but prints every real in its shortest round-trip form, so
/// `parse(format(frames))` gives back the same bits.
public enum ExtendedXYZ {
  /// All frames of the file at `path`; errors name `path` as given.
  public static func read(contentsOf path: String) throws -> [ExtendedXYZFrame] {
    guard let text = String(validating: try readFileBytes(atPath: path), as: UTF8.self) else {
      throw ExtendedXYZError(fileName: path, line: nil, message: "expected UTF-8 text")
    }
    return try parse(text, fileName: path)
  }

  /// All frames of `text`; `fileName` is what errors report as the file.
  public static func parse(_ text: String, fileName: String) throws -> [ExtendedXYZFrame] {
    var reader = FrameReader(text: text, fileName: fileName)
    return try reader.readAll()
  }

  /// The frames as extended XYZ text. Text values that look like numbers or flags (`"1.5"`, `"T"`) read
  /// back as those, as in ASE.
  ///
  /// - Precondition: each frame is representable (see `ExtendedXYZFrame`): consistent sizes, no reserved
  ///   info keys, no line breaks in info, no whitespace in species or per-atom strings.
  public static func format(_ frames: [ExtendedXYZFrame]) -> String {
    var text = ""
    for frame in frames { frame.appendFormatted(to: &text) }
    return text
  }

  /// Writes `format(frames)` to `path`, replacing any file there atomically: a crash or error leaves the old
  /// file or the new one, never a truncated mix.
  public static func write(_ frames: [ExtendedXYZFrame], to path: String) throws {
    try AtomicFile.write(format(frames), to: path)
  }
}
