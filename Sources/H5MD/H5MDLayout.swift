/// What an h5md dump writes (LAMMPS `dump h5md` arguments): per-atom elements, each every `every`
/// frames (LAMMPS's `every N_element` sub-interval), the box, the author, and the compression.
public struct H5MDLayout: Sendable, Equatable {
  public enum Element: String, CaseIterable, Sendable {
    case position, image, velocity, force, species
  }

  /// Sub-interval of each element written, in frames of the dump.
  public var every: [Element: Int] = [:]
  public var box = true
  public var author: String
  /// Deflate level 1–9 for the per-atom values (with the shuffle filter), 0 for none.
  public var compressionLevel = 0

  public init(author: String) { self.author = author }

  /// The elements, in the order they are written.
  public var elements: [Element] { Element.allCases.filter { every[$0] != nil } }

  /// Whether `element` is due at `step` of a dump written every `dumpEvery` steps. Image flags go with
  /// positions, and so does the box (every frame when there are no positions), as in LAMMPS.
  func isDue(_ element: Element, step: Int, dumpEvery: Int) -> Bool {
    guard let sub = every[element == .image ? .position : element] else { return false }
    return step % (dumpEvery * sub) == 0
  }

  func boxIsDue(step: Int, dumpEvery: Int) -> Bool {
    guard box else { return false }
    return every[.position] == nil || isDue(.position, step: step, dumpEvery: dumpEvery)
  }
}
