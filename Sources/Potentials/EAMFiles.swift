import Foundation

/// One DYNAMO funcfl file (`pair_style eam`): a single element's embedding function F(ρ), effective
/// charge Z(r) and density ρ(r), each tabulated from 0 on its own grid. Values are 0-based here:
/// index k holds LAMMPS's 1-based entry k + 1, the value at k·drho or k·dr.
public struct FuncflFile: Sendable {
  public var path: String
  public var mass: Double
  public var densityStep: Double, distanceStep: Double, cutoff: Double
  public var embedding: [Double]
  /// Z(r) in √(Hartree·Bohr); the pair term is 27.2·0.529·Zᵢ·Zⱼ / r (eV·Å / r).
  public var charge: [Double]
  public var density: [Double]
}

/// A DYNAMO setfl file (`pair_style eam/alloy`) or its Finnis–Sinclair form (`eam/fs`): N elements
/// on one grid, F(ρ) and ρ(r) per element (eam/fs: ρ per ordered element pair), r·φ(r) per
/// unordered pair. 0-based values as in `FuncflFile`.
public struct SetflFile: Sendable {
  public var path: String
  public var isFinnisSinclair: Bool
  public var elements: [String]
  public var masses: [Double]
  public var densityCount: Int, densityStep: Double, distanceCount: Int, distanceStep: Double, cutoff: Double
  /// F(ρ) per element.
  public var embedding: [[Double]]
  /// eam/alloy: ρ(r) of element i at index i. eam/fs: the block of element i lists the densities
  /// for each element j, stored at i·N + j (LAMMPS `fs->rhor[i][j]`).
  public var density: [[Double]]
  /// r·φ(r) (eV·Å) for i ≥ j at i(i+1)/2 + j, the file's order.
  public var pairTimesDistance: [[Double]]
}

/// Reads LAMMPS's EAM potential files as its `PotentialFileReader` does: the header lines are
/// skipped whole, a line of parameters may continue on the next lines, `#` starts a comment, blank
/// lines are skipped, and a table is read value by value across lines (values left on a table's
/// last line are dropped, as LAMMPS drops them). Every error names the file and line.
struct EAMFileReader {
  let path: String
  private let lines: [Substring]
  /// Index of the next unread line (0-based; error messages print it 1-based).
  private var next = 0

  init(path: String) throws {
    guard let data = FileManager.default.contents(atPath: path) else {
      throw PotentialError("cannot open EAM potential file \(path)")
    }
    self.path = path
    var lines = String(decoding: data, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
    // The newline ending the last line starts no line of its own.
    if lines.last?.isEmpty == true { lines.removeLast() }
    self.lines = lines
  }

  func fail(_ message: String, line: Int? = nil) -> PotentialError {
    PotentialError("\(path):\((line ?? next) + 1): \(message)")
  }

  /// The first line's `UNITS:` tag, if any (LAMMPS refuses a file made for other units).
  func requireMetalUnits() throws {
    guard let first = lines.first else { return }
    let words = first.split(whereSeparator: \.isWhitespace)
    if let tag = words.firstIndex(of: "UNITS:"), tag + 1 < words.count, words[tag + 1] != "metal" {
      throw fail("the potential is in \(words[tag + 1]) units; Tessera's EAM styles need metal units", line: 0)
    }
  }

  mutating func skipLine(_ what: String) throws {
    guard next < lines.count else { throw fail("the file ends where \(what) was expected", line: lines.count - 1) }
    next += 1
  }

  /// The words of one line (comment removed) and where it is.
  private mutating func readLine() -> (words: [Substring], line: Int)? {
    guard next < lines.count else { return nil }
    let line = next
    next += 1
    let text = lines[line].prefix { $0 != "#" }
    return (text.split(whereSeparator: \.isWhitespace), line)
  }

  /// At least `count` words from the next non-blank line and, if it is short, the lines after it.
  mutating func values(_ count: Int, _ what: String) throws -> (words: [Substring], line: Int) {
    var words: [Substring] = []
    var first: Int?
    while words.count < count || words.isEmpty {
      guard let (more, line) = readLine() else {
        throw fail("the file ends before \(what) (\(count) values, found \(words.count))", line: lines.count - 1)
      }
      if !more.isEmpty && first == nil { first = line }
      words += more
    }
    return (words, first!)
  }

  /// `count` numbers read across lines, the rest of the last line dropped.
  mutating func table(_ count: Int, _ what: String) throws -> [Double] {
    var result: [Double] = []
    result.reserveCapacity(count)
    while result.count < count {
      guard let (words, line) = readLine() else {
        throw fail("the file ends after \(result.count) of the \(count) values of \(what)", line: lines.count - 1)
      }
      for word in words where result.count < count {
        result.append(try number(word, what, line: line))
      }
    }
    return result
  }

  func number(_ word: Substring, _ what: String, line: Int) throws -> Double {
    guard let value = Double(word), value.isFinite else {
      throw fail("expected a number for \(what), got '\(word)'", line: line)
    }
    return value
  }

  func integer(_ word: Substring, _ what: String, line: Int) throws -> Int {
    guard let value = Int(word) else { throw fail("expected an integer for \(what), got '\(word)'", line: line) }
    return value
  }

  /// The grid line `Nrho drho Nr dr cutoff`, checked as LAMMPS checks it and for the four points its
  /// splines need.
  mutating func grid() throws -> (densityCount: Int, densityStep: Double, distanceCount: Int, distanceStep: Double,
                                  cutoff: Double) {
    let what = "the grid line 'Nrho drho Nr dr cutoff'"
    let (w, line) = try values(5, what)
    let nrho = try integer(w[0], "Nrho", line: line), drho = try number(w[1], "drho", line: line)
    let nr = try integer(w[2], "Nr", line: line), dr = try number(w[3], "dr", line: line)
    let cutoff = try number(w[4], "cutoff", line: line)
    guard nrho >= 5, nr >= 5 else { throw fail("expected at least 5 points in each table, got Nrho \(nrho), Nr \(nr)", line: line) }
    guard drho > 0, dr > 0, cutoff > 0 else {
      throw fail("expected positive drho, dr and cutoff, got \(drho), \(dr), \(cutoff)", line: line)
    }
    return (nrho, drho, nr, dr, cutoff)
  }

  /// `pair_style eam`: a comment line; `Z mass [a lattice]`; the grid; F(ρ), Z(r), ρ(r).
  static func funcfl(path: String) throws -> FuncflFile {
    var reader = try EAMFileReader(path: path)
    try reader.requireMetalUnits()
    try reader.skipLine("the comment line")
    let (w, line) = try reader.values(2, "the line 'atomic-number mass'")
    _ = try reader.integer(w[0], "the atomic number", line: line)
    let mass = try reader.number(w[1], "the mass", line: line)
    let g = try reader.grid()
    return FuncflFile(path: path, mass: mass, densityStep: g.densityStep, distanceStep: g.distanceStep, cutoff: g.cutoff,
                      embedding: try reader.table(g.densityCount, "F(rho)"),
                      charge: try reader.table(g.distanceCount, "Z(r)"),
                      density: try reader.table(g.distanceCount, "rho(r)"))
  }

  /// `pair_style eam/alloy` and `eam/fs`: three comment lines; `N El1 … ElN`; the grid; per element
  /// `Z mass [a lattice]`, F(ρ) and ρ(r) (eam/fs: N of them); r·φ(r) for each pair i ≥ j.
  static func setfl(path: String, finnisSinclair: Bool) throws -> SetflFile {
    var reader = try EAMFileReader(path: path)
    try reader.requireMetalUnits()
    for _ in 0..<3 { try reader.skipLine("one of the three comment lines") }
    let (w, line) = try reader.values(1, "the element line 'N El1 … ElN'")
    let count = try reader.integer(w[0], "the element count", line: line)
    guard count >= 1, w.count == count + 1 else {
      throw reader.fail("expected the element count and that many names, got '\(w.joined(separator: " "))'", line: line)
    }
    let elements = w.dropFirst().map(String.init)
    let g = try reader.grid()
    var masses: [Double] = [], embedding: [[Double]] = [], density: [[Double]] = []
    for element in elements {
      let (v, massLine) = try reader.values(2, "the line 'atomic-number mass' of \(element)")
      _ = try reader.integer(v[0], "the atomic number of \(element)", line: massLine)
      masses.append(try reader.number(v[1], "the mass of \(element)", line: massLine))
      embedding.append(try reader.table(g.densityCount, "F(rho) of \(element)"))
      for other in finnisSinclair ? elements : [element] {
        density.append(try reader.table(g.distanceCount, "rho(r) of \(element)" + (finnisSinclair ? " for \(other)" : "")))
      }
    }
    var pairs: [[Double]] = []
    for i in 0..<count {
      for j in 0...i {
        pairs.append(try reader.table(g.distanceCount, "r*phi(r) of \(elements[i])-\(elements[j])"))
      }
    }
    return SetflFile(path: path, isFinnisSinclair: finnisSinclair, elements: elements, masses: masses,
                     densityCount: g.densityCount, densityStep: g.densityStep, distanceCount: g.distanceCount,
                     distanceStep: g.distanceStep, cutoff: g.cutoff, embedding: embedding, density: density,
                     pairTimesDistance: pairs)
  }
}
