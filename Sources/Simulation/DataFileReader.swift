import Atoms
import Foundation
import Geometry
import InputDeck

/// `read_data FILE` for `atom_style atomic`: header (counts, box, tilts), `Masses`, `Atoms` and
/// `Velocities`. Every rank streams the file and keeps only the atoms of its own brick, so no rank
/// ever holds the whole system; all ranks see the same text, so every error is collective.
struct DataFileReader {
  let path: String
  let lines: [Substring]

  init(path: String, command: Command) throws {
    self.path = path
    guard let data = FileManager.default.contents(atPath: path) else {
      throw command.error("cannot open data file '\(path)': \(DeckReaderReason.reason(path))")
    }
    guard let text = String(data: data, encoding: .utf8) else {
      throw DeckError("not valid UTF-8 text", at: SourceLocation(file: path, line: DeckReader.firstLineNotUTF8(data)))
    }
    lines = text.split(separator: "\n", omittingEmptySubsequences: false)
  }

  struct Header {
    var atoms = 0
    var types = 0
    var box = Box(lo: .zero, hi: SIMD3(repeating: 1), triclinic: false)
    var bodyStart = 0
  }

  /// How many box lengths outside a periodic box an atom may start and still be wrapped in.
  static let farthestWrap = 1_000_000.0

  private func fail(_ line: Int, _ message: String) -> DeckError {
    DeckError(message, at: SourceLocation(file: path, line: line + 1))
  }

  private func words(_ line: Int) -> [Substring] {
    let text = lines[line].split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
    return text.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\r" })
  }

  private func number(_ w: Substring, _ line: Int, _ what: String) throws -> Double {
    guard let v = parseNumber(String(w)), v.isFinite else { throw fail(line, "expected a number for \(what), got '\(w)'") }
    return v
  }

  private func integer(_ w: Substring, _ line: Int, _ what: String) throws -> Int {
    guard let v = Int(w) else { throw fail(line, "expected an integer for \(what), got '\(w)'") }
    return v
  }

  func header(periodic: [Bool]) throws -> Header {
    var h = Header()
    var lo = SIMD3<Double>(0, 0, 0), hi = SIMD3<Double>(1, 1, 1)
    var tilt = (0.0, 0.0, 0.0), triclinic = false
    var seen = Set<String>()
    var line = 1  // the first line is a title
    while line < lines.count {
      let w = words(line)
      if w.isEmpty { line += 1; continue }
      let text = w.joined(separator: " ")
      if w.count == 2 && w[1] == "atoms" {
        h.atoms = try integer(w[0], line, "atom count"); seen.insert("atoms")
      } else if w.count == 3 && w[1] == "atom" && w[2] == "types" {
        h.types = try integer(w[0], line, "atom type count"); seen.insert("types")
        guard h.types <= Simulation.maximumTypeCount else {
          throw fail(line, "\(h.types) atom types is more than Tessera supports (\(Simulation.maximumTypeCount))")
        }
      } else if w.count == 4 && ["xlo", "ylo", "zlo"].contains(w[2]) {
        let d = ["xlo": 0, "ylo": 1, "zlo": 2][String(w[2])]!
        guard w[3] == ["xhi", "yhi", "zhi"][d] else { throw fail(line, "expected '\(w[2]) \(["xhi", "yhi", "zhi"][d])'") }
        lo[d] = try number(w[0], line, "\(w[2])")
        hi[d] = try number(w[1], line, "\(w[3])")
        guard hi[d] > lo[d], (hi[d] - lo[d]).isFinite else { throw fail(line, "box bound \(w[3]) must exceed \(w[2]) by a finite length") }
      } else if w.count == 6 && w[3] == "xy" && w[4] == "xz" && w[5] == "yz" {
        tilt = (try number(w[0], line, "xy"), try number(w[1], line, "xz"), try number(w[2], line, "yz"))
        triclinic = true
      } else if ["Masses", "Atoms", "Velocities"].contains(String(w[0])) || w[0].first!.isUppercase {
        break
      } else if ["bonds", "angles", "dihedrals", "impropers", "extra"].contains(where: { text.contains($0) }) {
        if (Int(w[0]) ?? 1) != 0 { throw fail(line, "molecular data ('\(text)') needs an atom style other than atomic") }
      } else {
        throw fail(line, "unrecognised header line '\(text)'")
      }
      line += 1
    }
    guard seen.contains("atoms") && h.atoms >= 0 else { throw fail(0, "header has no 'N atoms' line") }
    guard seen.contains("types") && h.types > 0 else { throw fail(0, "header has no 'N atom types' line") }
    h.box = Box(lo: lo, hi: hi, xy: tilt.0, xz: tilt.1, yz: tilt.2, periodic: periodic, triclinic: triclinic)
    h.bodyStart = line
    return h
  }

  /// Reads the sections after the header. `keep` receives every atom (wrapped into the box, image
  /// flags updated) and returns whether this rank owns it.
  func body(from start: Int, header h: Header, masses: inout Masses,
            keep: (_ tag: Int64, _ type: Int32, _ x: SIMD3<Double>, _ image: SIMD3<Int32>) -> Bool,
            velocity: (_ tag: Int64, _ v: SIMD3<Double>) -> Void) throws {
    var line = start
    var atomsSeen = 0, velocitiesSeen = 0
    var sawAtoms = false
    while line < lines.count {
      let w = words(line)
      if w.isEmpty { line += 1; continue }
      let section = w.prefix { $0 != "#" }.joined(separator: " ")
      line += 1
      // Skip the blank line(s) after the section keyword.
      while line < lines.count && words(line).isEmpty { line += 1 }
      let count: Int
      switch section {
      case "Masses": count = h.types
      case "Atoms", "Velocities": count = h.atoms
      default: throw fail(line - 1, "unsupported section '\(section)' (Masses, Atoms, Velocities)")
      }
      if section == "Atoms", w.count >= 3, w[1] == "#", w[2] != "atomic" {
        throw fail(line - 1, "Atoms section is for style '\(w[2])', expected atomic")
      }
      for _ in 0..<count {
        guard line < lines.count else { throw fail(lines.count - 1, "\(section) section ends early: expected \(count) lines") }
        let v = words(line)
        switch section {
        case "Masses":
          guard v.count == 2 else { throw fail(line, "expected 'TYPE MASS', got \(v.count) words") }
          let t = try integer(v[0], line, "atom type")
          guard (1...h.types).contains(t) else { throw fail(line, "atom type \(t) outside 1..\(h.types)") }
          let m = try number(v[1], line, "mass")
          guard m > 0 else { throw fail(line, "mass must be positive") }
          masses.set(type: t, mass: m)
        case "Atoms":
          guard v.count == 5 || v.count == 8 else {
            throw fail(line, "expected 'ID TYPE X Y Z [IX IY IZ]' (atomic), got \(v.count) words")
          }
          let tag = try integer(v[0], line, "atom id")
          let t = try integer(v[1], line, "atom type")
          guard tag > 0 else { throw fail(line, "atom id must be positive") }
          guard (1...h.types).contains(t) else { throw fail(line, "atom type \(t) outside 1..\(h.types)") }
          var x = SIMD3(try number(v[2], line, "x"), try number(v[3], line, "y"), try number(v[4], line, "z"))
          var image = SIMD3<Int32>(0, 0, 0)
          if v.count == 8 {
            for d in 0..<3 {
              guard let m = Int32(v[5 + d]) else { throw fail(line, "expected an integer image flag, got '\(v[5 + d])'") }
              image[d] = m
            }
          }
          // Wrapping counts box lengths into 32-bit image flags; a point further away is a typo.
          let f = h.box.fractional(x)
          for d in 0..<3 where h.box.periodic[d] && abs(f[d]) > Self.farthestWrap {
            throw fail(line, "atom \(tag) lies more than \(Int(Self.farthestWrap)) box lengths outside the periodic box")
          }
          h.box.wrap(&x, image: &image)
          _ = keep(Int64(tag), Int32(t), x, image)
          atomsSeen += 1
          sawAtoms = true
        default:
          guard v.count == 4 else { throw fail(line, "expected 'ID VX VY VZ', got \(v.count) words") }
          let tag = try integer(v[0], line, "atom id")
          velocity(Int64(tag), SIMD3(try number(v[1], line, "vx"), try number(v[2], line, "vy"), try number(v[3], line, "vz")))
          velocitiesSeen += 1
        }
        line += 1
      }
    }
    guard sawAtoms || h.atoms == 0 else { throw fail(start, "data file has no Atoms section") }
    guard atomsSeen == h.atoms else { throw fail(start, "expected \(h.atoms) atoms, read \(atomsSeen)") }
  }
}

/// Why a path cannot be read, in words.
enum DeckReaderReason {
  static func reason(_ path: String) -> String {
    var isDirectory: ObjCBool = false
    if !FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) { return "no such file" }
    if isDirectory.boolValue { return "it is a directory" }
    return "permission denied"
  }
}
