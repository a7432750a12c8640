import Atoms
import Foundation
import Geometry

/// Every atom of the system at one step, gathered from the ranks onto the one that writes it (rank 0,
/// or the first rank of a `%` dump's file group) and sorted as the writer asks: what dump frames,
/// data files and restarts are made of.
public struct GatheredAtoms {
  public var step: Int
  public var box: Box
  /// Per atom, in output order.
  public var ids: [Int64]
  public var types: [Int32]
  /// Packed [n][3]: wrapped positions, image flags, velocities, forces.
  public var positions: [Double]
  public var images: [Int32]
  public var velocities: [Double]
  public var forces: [Double]
  /// Per-atom potential energy, when the potential computed it for this step.
  public var energies: [Double]?
  public var masses: [Double]

  public init(step: Int, box: Box, ids: [Int64], types: [Int32], positions: [Double], images: [Int32],
              velocities: [Double], forces: [Double], energies: [Double]?, masses: [Double]) {
    self.step = step
    self.box = box
    self.ids = ids
    self.types = types
    self.positions = positions
    self.images = images
    self.velocities = velocities
    self.forces = forces
    self.energies = energies
    self.masses = masses
  }

  public var count: Int { ids.count }

  /// Doubles per atom in the packed transfer form (`packed(...)` / `init(unpacking:)`).
  public static let packedWidth = 16

  /// One atom in the packed transfer form gathered from every rank.
  public static func pack(id: Int64, type: Int32, position: SIMD3<Double>, image: SIMD3<Int32>,
                          velocity: SIMD3<Double>, force: SIMD3<Double>, energy: Double, mass: Double,
                          into buffer: inout [Double]) {
    buffer += [Double(id), Double(type), position.x, position.y, position.z]
    buffer += [Double(image.x), Double(image.y), Double(image.z), velocity.x, velocity.y, velocity.z]
    buffer += [force.x, force.y, force.z, energy, mass]
  }

  /// This rank's owned atoms in the packed form, with `energies` (one per owned atom, or none: zeros).
  public static func packOwned(_ atoms: AtomStore, masses: Masses, energies: [Double]?) -> [Double] {
    var mine: [Double] = []
    mine.reserveCapacity(packedWidth * atoms.ownedCount)
    for i in 0..<atoms.ownedCount {
      pack(id: atoms.tag[i], type: atoms.type[i], position: atoms.positionOf(i), image: atoms.imageOf(i),
           velocity: atoms.velocityOf(i), force: atoms.forceOf(i), energy: energies?[i] ?? 0,
           mass: masses[atoms.type[i]], into: &mine)
    }
    return mine
  }

  /// The snapshot of gathered packed atoms, sorted by id when `sortByID`.
  public init(step: Int, box: Box, packed: [Double], hasEnergies: Bool, sortByID: Bool) {
    let w = GatheredAtoms.packedWidth, n = packed.count / w
    var order = Array(0..<n)
    if sortByID { order.sort { packed[w * $0] < packed[w * $1] } }
    func column(_ k: Int) -> [Double] { order.map { packed[w * $0 + k] } }
    func triple(_ k: Int) -> [Double] {
      var values: [Double] = []
      values.reserveCapacity(3 * n)
      for a in order { values += packed[(w * a + k)..<(w * a + k + 3)] }
      return values
    }
    self.init(step: step, box: box, ids: column(0).map { Int64($0) }, types: column(1).map { Int32($0) },
              positions: triple(2), images: triple(5).map { Int32($0) }, velocities: triple(8), forces: triple(11),
              energies: hasEnergies ? column(14) : nil, masses: column(15))
  }
}
