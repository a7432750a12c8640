/// What `pair_style eam|eam/alloy|eam/fs` and its `pair_coeff` lines have set, turned into an
/// `EmbeddedAtom` when a run starts (LAMMPS `PairEAM::coeff` and `init_style`).
public struct EmbeddedAtomSetup: Sendable {
  public enum Style: String, Sendable, CaseIterable {
    case funcfl = "eam", setfl = "eam/alloy", finnisSinclair = "eam/fs"
  }

  public let style: Style
  public let typeCount: Int
  /// eam: the funcfl files in the order first named, and the file of each type (−1: not set).
  private var funcflFiles: [FuncflFile] = []
  private var fileOfType: [Int]
  /// eam/alloy, eam/fs: the file and the element of each type (−1: not set).
  private var setflFile: SetflFile?
  private var elementOfType: [Int]

  public init(style: Style, typeCount: Int) {
    self.style = style
    self.typeCount = typeCount
    fileOfType = [Int](repeating: -1, count: typeCount + 1)
    elementOfType = fileOfType
  }

  /// `pair_coeff I J FILE` of `pair_style eam`: the funcfl file for the types i = j in both ranges
  /// (LAMMPS ignores i ≠ j: the cross terms are mixed from the elements' own). Returns the masses
  /// the file sets, per type.
  public mutating func assignFuncfl(path: String, first: ClosedRange<Int>, second: ClosedRange<Int>) throws
    -> [(type: Int, mass: Double)] {
    let types = first.filter { second.contains($0) }
    guard !types.isEmpty else {
      throw PotentialError("pair_style eam sets only like pairs I I; \(first) and \(second) share no type")
    }
    let index: Int
    if let known = funcflFiles.firstIndex(where: { $0.path == path }) {
      index = known
    } else {
      funcflFiles.append(try EAMFileReader.funcfl(path: path))
      index = funcflFiles.count - 1
    }
    for t in types { fileOfType[t] = index }
    return types.map { ($0, funcflFiles[index].mass) }
  }

  /// `pair_coeff * * FILE El1 … ElN` of `eam/alloy` and `eam/fs`: one element name per type. Returns
  /// the masses the file sets, per type.
  public mutating func assignElements(path: String, elements: [String]) throws -> [(type: Int, mass: Double)] {
    guard elements.count == typeCount else {
      throw PotentialError("expected \(typeCount) element name\(typeCount == 1 ? "" : "s") after the file (one per atom type), got \(elements.count)")
    }
    let file = try EAMFileReader.setfl(path: path, finnisSinclair: style == .finnisSinclair)
    var mapping = [Int](repeating: -1, count: typeCount + 1)
    for (k, name) in elements.enumerated() {
      guard name != "NULL" else {
        throw PotentialError("type \(k + 1) is NULL: Tessera has no pair_style hybrid to give it another potential")
      }
      guard let element = file.elements.firstIndex(of: name) else {
        throw PotentialError("element '\(name)' is not in \(path) (it has \(file.elements.joined(separator: ", ")))")
      }
      mapping[k + 1] = element
    }
    setflFile = file
    elementOfType = mapping
    return (1...typeCount).map { ($0, file.masses[mapping[$0]]) }
  }

  /// The first atom type no `pair_coeff` has covered, if any.
  public var firstUnsetType: Int? {
    let mapping = style == .funcfl ? fileOfType : elementOfType
    return (1...max(typeCount, 1)).first { mapping[$0] < 0 }
  }

  /// The potential, its tables splined (LAMMPS `file2array` + `array2spline`); every type must be set.
  public func makePotential() throws -> EmbeddedAtom {
    if let t = firstUnsetType { throw PotentialError("pair coefficients for atom type \(t) are not set") }
    switch style {
    case .funcfl: return EmbeddedAtom(tables: EAMTables(funcfl: funcflFiles, fileOfType: fileOfType))
    case .setfl, .finnisSinclair: return EmbeddedAtom(tables: EAMTables(setfl: setflFile!, elementOfType: elementOfType))
    }
  }
}
