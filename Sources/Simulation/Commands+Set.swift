import Dynamics
import Foundation
import InputDeck

extension Simulation {
  /// `set atom IDS|type TYPES|group ID|region ID KEYWORD VALUES…` (LAMMPS `Set`), keywords in order:
  /// `type T`, `type/fraction T FRACTION SEED` (each selected atom becomes T when its uniform number —
  /// LAMMPS's Park–Miller generator seeded from SEED and the atom's coordinates, so the same on any
  /// rank count and the same atoms as in LAMMPS — is at most FRACTION), `type/ratio T FRACTION SEED`
  /// and `type/subset T N SEED` (exactly ⌊FRACTION·count⌋ or N of the selected atoms become T: see
  /// `exactSubset`), `image NX NY NZ` (NULL keeps one; periodic dimensions only). `IDS` and `TYPES`
  /// are N, `*`, `N*`, `*M` or `N*M`.
  func set(_ c: Command) throws {
    _ = try requireBox(c)
    let selector = try c.word(0, "set style"), what = try c.word(1, "atoms to set")
    let selects: (Int) -> Bool
    switch selector {
    case "atom":
      let range = try idRange(what, c)
      selects = { [atoms] i in range.contains(atoms.tag[i]) }
    case "type":
      let range = try typeRange(what, c)
      selects = { [atoms] i in range.contains(Int(atoms.type[i])) }
    case "group":
      let g = try group(named: what, c)
      selects = { [atoms] i in g.contains(atoms.tag[i]) }
    case "region":
      guard let region = regions[what] else { throw c.error("unknown region '\(what)'") }
      selects = { [atoms] i in region.contains(atoms.positionOf(i)) }
    default: throw c.error("unsupported set style '\(selector)' (atom, type, group, region)")
    }
    // Chosen once, before any keyword changes types, as LAMMPS does.
    let mask = (0..<atoms.ownedCount).map(selects)
    let selected = { (i: Int) in mask[i] }
    var reader = KeywordReader(c, from: 2)
    guard !reader.isAtEnd else { throw c.error("expected a keyword to set (type, type/fraction, type/ratio, type/subset, image)") }
    console.line("Setting atom values ...")
    while let keyword = reader.nextKeyword() {
      var count = 0
      switch keyword {
      case "type":
        let type = try atomType(try reader.word("atom type"), c)
        for i in 0..<atoms.ownedCount where selected(i) { atoms.type[i] = Int32(type); count += 1 }
      case "type/fraction":
        let type = try atomType(try reader.word("atom type"), c)
        let fraction = try reader.double("fraction")
        guard (0...1).contains(fraction) else { throw c.error("type/fraction needs a fraction from 0 to 1, got \(fraction)") }
        let seed = try reader.positiveInteger("seed")
        guard seed <= Int(Int32.max) else { throw c.error("type/fraction seed \(seed) is larger than \(Int32.max)") }
        for i in 0..<atoms.ownedCount where selected(i) {
          var random = ParkMillerRandom(seed: Int32(seed), position: atoms.positionOf(i))
          if random.uniform() > fraction { continue }
          atoms.type[i] = Int32(type)
          count += 1
        }
      case "type/ratio", "type/subset":
        let type = try atomType(try reader.word("atom type"), c)
        let size: (Int) throws -> Int
        if keyword == "type/ratio" {
          let fraction = try reader.double("fraction")
          guard (0...1).contains(fraction) else { throw c.error("type/ratio needs a fraction from 0 to 1, got \(fraction)") }
          size = { eligible in Int(fraction * Double(eligible)) }
        } else {
          let n = try reader.count("subset size")
          size = { eligible in
            guard n <= eligible else { throw c.error("type/subset \(n) exceeds the \(eligible) eligible atoms") }
            return n
          }
        }
        let seed = try reader.positiveInteger("seed")
        guard MarsagliaRandom.seeds.contains(seed) else { throw c.error("\(keyword) seed \(seed) is larger than 900000000") }
        let chosen = try exactSubset(selected, size: size, seed: seed)
        for i in 0..<atoms.ownedCount where chosen.contains(atoms.tag[i]) { atoms.type[i] = Int32(type); count += 1 }
      case "image":
        let box = self.box!
        let flags: [Int32?] = try (0..<3).map { d in
          let word = try reader.word("image flag \(d + 1)")
          if word == "NULL" { return nil }
          guard let n = Int32(word) else { throw c.error("expected an integer or NULL for image flag \(d + 1), got '\(word)'") }
          guard n == 0 || box.periodic[d] else { throw c.error("cannot set a non-zero image flag for a non-periodic dimension") }
          return n
        }
        for i in 0..<atoms.ownedCount where selected(i) {
          var image = atoms.imageOf(i)
          for d in 0..<3 { if let n = flags[d] { image[d] = n } }
          atoms.setImage(i, image)
          count += 1
        }
      case "mass":
        throw c.error("atom_style atomic keeps masses per type: use the mass command")
      default: throw reader.unknownKeyword("type, type/fraction, type/ratio, type/subset, image")
      }
      console.line("  \(comm.allReduce(count, .sum)) settings made for \(keyword)")
    }
  }

  /// The ids of an exact random subset of the selected atoms, the same on every rank: all selected
  /// ids gathered in id order and drawn from as LAMMPS's `select_subset` draws on one rank (RANMAR
  /// seeded with SEED), so the same atoms as LAMMPS on one rank when its atoms are stored in id
  /// order (as after create_atoms, or read_data of a file sorted by id). LAMMPS on P ranks seeds
  /// each rank with SEED + rank and draws over each rank's atoms, so its choice (not the count)
  /// depends on the decomposition.
  private func exactSubset(_ selected: (Int) -> Bool, size: (Int) throws -> Int, seed: Int) throws -> Set<Int64> {
    let mine = (0..<atoms.ownedCount).filter(selected).map { atoms.tag[$0] }
    var all: [Int64] = []
    for part in comm.allGatherBytes(mine.withUnsafeBytes { [UInt8]($0) }) {
      part.withUnsafeBytes { all.append(contentsOf: $0.bindMemory(to: Int64.self)) }
    }
    all.sort()
    var random = MarsagliaRandom(seed: seed)
    let marked = random.selectSubset(try size(all.count), of: all.count)
    return Set(zip(all, marked).filter(\.1).map(\.0))
  }

  private func atomType(_ word: String, _ c: Command) throws -> Int {
    guard let t = Int(word), t >= 1, t <= masses.typeCount else {
      throw c.error("expected an atom type from 1 to \(masses.typeCount), got '\(word)'")
    }
    return t
  }

  /// An atom id range: `N`, `*`, `N*`, `*M`, `N*M`.
  private func idRange(_ word: String, _ c: Command) throws -> ClosedRange<Int64> {
    func bound(_ s: Substring, _ fallback: Int64) throws -> Int64 {
      if s.isEmpty { return fallback }
      guard let v = Int64(s), v >= 1 else { throw c.error("expected an atom id or range N*M, got '\(word)'") }
      return v
    }
    guard let star = word.firstIndex(of: "*") else { let id = try bound(Substring(word), 0); return id...id }
    let lo = try bound(word[..<star], 1), hi = try bound(word[word.index(after: star)...], Int64.max)
    guard lo <= hi else { throw c.error("empty atom id range '\(word)'") }
    return lo...hi
  }
}
