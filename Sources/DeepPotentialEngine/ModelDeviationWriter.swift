import Communication
import Foundation
import Output

/// `model_devi.out` as DeePMD-kit's LAMMPS plugin writes it: a `#`-header, then per row the step
/// (12 wide) and each value in C++'s `scientific` form (6 digits) 18 wide after a space. Created
/// (truncated, header written) by rank 0 at the first step it is due at (the setup of the first run,
/// as the plugin creates it when LAMMPS sets the pair style up), so a deck that never runs — `tessera
/// check` — creates none; rank 0 alone appends the rows the ensemble's statistics leave in the Output
/// phase.
public final class ModelDeviationWriter: Writer {
  let path: String
  private let ensemble: DeviationEnsemble
  private var handle: FileHandle?
  private let writesFile: Bool
  /// A comment line above DeePMD-kit's header when the file differs from what the plugin would
  /// write (the further models' precision); readers (NumPy's loadtxt, dpgen2) skip `#` lines.
  private let note: String?

  public init(path: String, ensemble: DeviationEnsemble, note: String? = nil, writesFile: Bool) {
    self.path = path
    self.ensemble = ensemble
    self.note = note
    self.writesFile = writesFile
  }

  private var header: String {
    var text = note.map { $0 + "\n" } ?? ""
    text += "#" + padded("step", 11, right: true)
    for name in ["max_devi_v", "min_devi_v", "avg_devi_v", "max_devi_f", "min_devi_f", "avg_devi_f"]
      + (ensemble.options.atomic ? ["atm_devi_f(N)"] : []) {
      text += padded(name, 19, right: true)
    }
    return text + "\n"
  }

  public func isDue(at step: Int, isSetup: Bool) -> Bool { ensemble.isDue(step) }

  public func write(_ output: OutputStep) throws {
    var failure: String?
    if writesFile && handle == nil {
      do { try create() } catch { failure = "\(error)" }
    }
    if failure == nil, let row = ensemble.pendingRow, row.step == output.step {
      ensemble.pendingRow = nil
      if writesFile {
        do { try append(step: row.step, values: row.values) } catch { failure = "\(error)" }
      }
    }
    if output.comm.any(failure != nil) {
      throw RunError(failure ?? "the model deviation file \(path) could not be written (see rank 0)")
    }
  }

  private func create() throws {
    guard FileManager.default.createFile(atPath: path, contents: Data(header.utf8)),
          let h = FileHandle(forWritingAtPath: path) else {
      throw RunError("cannot create the model deviation file \(path)")
    }
    h.seekToEndOfFile()
    handle = h
  }

  private func append(step: Int, values: [Double]) throws {
    var row = padded(String(step), 12, right: true)
    for v in values { row += " " + padded(String(format: "%.6e", v), 18, right: true) }
    handle!.write(Data((row + "\n").utf8))
  }
}
