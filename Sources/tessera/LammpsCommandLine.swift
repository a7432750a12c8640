import ArgumentParser
import Foundation
import Output

/// LAMMPS's command line (`lmp -in in.lammps -var t 300 -log none`, `lmp < in.lammps`), for the
/// workflows (DP-GEN, dpgen2, ASE, job scripts) that start `COMMAND -i FILE …` with COMMAND set to
/// Tessera. Switches and their short forms as LAMMPS's `LAMMPS::LAMMPS`; as there, the log file
/// defaults to `log.lammps` and the deck to standard input.
enum LammpsCommandLine {
  static let subcommands: Set<String> = ["run", "check", "eval", "help"]
  /// argument-parser's own flags on the root command.
  static let rootFlags: Set<String> = ["-h", "--help", "-help", "--version", "--experimental-dump-help",
                                        "--generate-completion-script"]

  /// Whether the arguments are LAMMPS's rather than a subcommand's: they start with a single-dash
  /// switch, or there are none and the deck comes through a pipe or a file on standard input.
  static func applies(to arguments: [String]) -> Bool {
    guard let first = arguments.first else { return isatty(STDIN_FILENO) == 0 }
    return first.hasPrefix("-") && !first.hasPrefix("--") && !rootFlags.contains(first)
  }

  static func parse(_ arguments: [String]) throws -> JobSettings {
    var job = JobSettings(deck: .standardInput, log: "log.lammps")
    // As `tessera run`: progress lines on a terminal's standard error for runs of a minute or more.
    if isatty(STDERR_FILENO) == 1 { job.progress = ProgressReport(minimumRunSeconds: 60) }
    var i = 0
    /// The value after switch `name`, which must not be another switch.
    func value(_ name: String, _ what: String) throws -> String {
      guard i + 1 < arguments.count, !arguments[i + 1].hasPrefix("-") || arguments[i + 1] == "-" else {
        throw ValidationError("\(name) expects \(what)")
      }
      i += 1
      return arguments[i]
    }
    while i < arguments.count {
      let name = arguments[i]
      switch name {
      case "-in", "-i":
        let path = try value(name, "a deck file")
        job.deck = path == "none" || path == "-" ? .standardInput : .file(path)
      case "-var", "-v":
        let variable = try value(name, "NAME VALUE…")
        var values: [String] = []
        // As LAMMPS: the values run to the next switch.
        while i + 1 < arguments.count, !arguments[i + 1].hasPrefix("-") {
          i += 1
          values.append(arguments[i])
        }
        guard !values.isEmpty else { throw ValidationError("\(name) \(variable) expects at least one value") }
        job.variables.append((variable, values))
      case "-log", "-l":
        let path = try value(name, "a file name or none")
        job.log = path == "none" ? nil : path
      case "-screen", "-sc":
        let path = try value(name, "a file name or none")
        job.screen = path == "none" ? .none : .file(path)
      case "-echo", "-e":
        let style = try value(name, "none, screen, log or both")
        guard ["none", "screen", "log", "both"].contains(style) else {
          throw ValidationError("\(name) expects none, screen, log or both, got '\(style)'")
        }
        job.echo = style != "none"
      // Tessera prints no citation reminder and writes its output unbuffered.
      case "-nocite", "-nc", "-nonbuf", "-nb": break
      case "-cite", "-c": _ = try value(name, "a citation style or file")
      case "-suffix", "-sf":
        throw ValidationError("\(name): accelerator suffixes select other implementations of the styles (gpu, intel, kk, omp, opt), which Tessera does not have; run without \(name)")
      case "-package", "-pk":
        throw ValidationError("\(name): accelerator package settings (gpu, intel, kokkos, omp) are not supported; run without \(name) (pair_style deepmd … threads N sets Tessera's threads)")
      case "-kokkos", "-k":
        throw ValidationError("\(name): Tessera has no KOKKOS mode; run without \(name)")
      default:
        throw ValidationError("unsupported LAMMPS command-line switch '\(name)' (Tessera accepts -in/-i, -var/-v, -log/-l, -screen/-sc, -echo/-e, -nocite, -cite, -nonbuf; or its subcommands run, check, eval)")
      }
      i += 1
    }
    return job
  }
}
