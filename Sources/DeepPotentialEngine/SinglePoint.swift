import Atoms
import DeepPotential
import Geometry
import Neighbors

/// Everything DeePMD-kit's `DeepPot.eval(..., atomic=True)` returns for one configuration.
public struct SinglePointResult: Sendable {
  public var energy: Double
  /// Packed [n][3] (eV/Å).
  public var forces: [Double]
  /// 9 components, row-major (eV).
  public var virial: [Double]
  public var atomEnergies: [Double]
  /// Packed [n][9], DeePMD-kit order xx xy xz yx yy yz zx zy zz (eV).
  public var atomVirials: [Double]
  public var overflowAtoms: Int
}

extension DeepPotentialEvaluator {
  /// Evaluates one configuration: `positions` packed [n][3] in Å, `types` model type indices,
  /// `cell` the three lattice vectors as rows (9 numbers) or nil for an isolated cluster.
  ///
  /// Periodic images are built as DeePMD-kit's `extend_coord_with_ghosts` builds them (spec §2.2):
  /// coordinates wrapped into the cell, then copies shifted by every lattice translation within
  /// ⌈r_c / face distance⌉ cells, nearest translations first, so cells smaller than twice the
  /// cut-off work (an atom sees its own images) and neighbours at equal distances are ordered as
  /// DeePMD-kit orders them. The neighbour list is a run's, built in a `Box` of the cell turned into
  /// LAMMPS's orientation (`GeneralCell`); the model is evaluated in the frame given, as DeePMD-kit
  /// evaluates it (a model whose descriptor statistics are not rotation-invariant depends on it).
  public func evaluate(positions: [Double], types: [Int32], cell: [Double]?) throws -> SinglePointResult {
    try evaluateSinglePoint(positions: positions, types: types, cell: cell, cutoff: model.cutoff,
                            typeMap: model.typeMap) {
      compute(positions: $0.positions, types: $0.types, ownedCount: $0.ownedCount, totalCount: $0.totalCount,
              neighborOffsets: $0.offsets, neighbors: $0.neighbors, forces: $0.forces, atomEnergies: $0.atomEnergies,
              atomVirials: $0.atomVirials)
    }
  }
}

extension AttentionEvaluator {
  /// Evaluates one configuration as `DeepPotentialEvaluator.evaluate(positions:types:cell:)` does.
  public func evaluate(positions: [Double], types: [Int32], cell: [Double]?) throws -> SinglePointResult {
    try evaluateSinglePoint(positions: positions, types: types, cell: cell, cutoff: model.cutoff,
                            typeMap: model.typeMap) {
      compute(positions: $0.positions, types: $0.types, ownedCount: $0.ownedCount, totalCount: $0.totalCount,
              neighborOffsets: $0.offsets, neighbors: $0.neighbors, forces: $0.forces, atomEnergies: $0.atomEnergies,
              atomVirials: $0.atomVirials)
    }
  }
}

extension RepflowEvaluator {
  /// Evaluates one configuration as `DeepPotentialEvaluator.evaluate(positions:types:cell:)` does;
  /// the images are the ghosts, their node features forwarded from the atoms they copy before every
  /// layer and their feature gradients summed back after every layer's backward pass; an image's
  /// forces and per-atom virial are folded onto the atom it copies. `forces` false skips the
  /// backward pass (forces, virial and per-atom virials then zero).
  public func evaluate(positions: [Double], types: [Int32], cell: [Double]?, forces wanted: Bool = true) throws
    -> SinglePointResult {
    try evaluateSinglePoint(positions: positions, types: types, cell: cell, cutoff: model.cutoff,
                            typeMap: model.typeMap) {
      compute(positions: $0.positions, types: $0.types, ownedCount: $0.ownedCount, totalCount: $0.totalCount,
              neighborOffsets: $0.offsets, neighbors: $0.neighbors, ghosts: $0.images, atomEnergies: $0.atomEnergies,
              forces: wanted ? $0.forces : nil, atomVirials: wanted ? $0.atomVirials : nil)
    }
  }
}

extension RepformerEvaluator {
  /// Evaluates one configuration as `RepflowEvaluator.evaluate(positions:types:cell:forces:)` does,
  /// the images' g1 forwarded before every repformer layer.
  public func evaluate(positions: [Double], types: [Int32], cell: [Double]?, forces wanted: Bool = true) throws
    -> SinglePointResult {
    try evaluateSinglePoint(positions: positions, types: types, cell: cell, cutoff: model.listCutoff,
                            typeMap: model.typeMap) {
      compute(positions: $0.positions, types: $0.types, ownedCount: $0.ownedCount, totalCount: $0.totalCount,
              neighborOffsets: $0.offsets, neighbors: $0.neighbors, ghosts: $0.images, atomEnergies: $0.atomEnergies,
              forces: wanted ? $0.forces : nil, atomVirials: wanted ? $0.atomVirials : nil)
    }
  }
}

/// What an evaluator's `compute` gets for one configuration: owned atoms then their images, the
/// neighbour list, and where forces (owned and images), atomic energies and virials go.
struct SinglePointInputs {
  let positions: UnsafePointer<Double>, types: UnsafePointer<Int32>
  let ownedCount: Int, totalCount: Int
  let offsets: UnsafePointer<Int32>, neighbors: UnsafePointer<Int32>
  let forces: UnsafeMutablePointer<Double>, atomEnergies: UnsafeMutablePointer<Double>
  let atomVirials: UnsafeMutablePointer<Double>
  /// The images as a halo, for message-passing models.
  let images: ImageGhostRows
}

/// The halo of a single point: periodic images (rows from `ownedCount` on) copy the atom `owner`
/// names, as ghosts copy their owners across ranks.
struct ImageGhostRows: GhostRows {
  let owner: [Int]
  let ownedCount: Int

  func forward(_ rows: UnsafeMutablePointer<Double>, width: Int) {
    for a in ownedCount..<owner.count {
      (rows + a * width).update(from: rows + owner[a] * width, count: width)
    }
  }

  func reverse(_ rows: UnsafeMutablePointer<Double>, width: Int) {
    for a in ownedCount..<owner.count {
      for c in 0..<width { rows[owner[a] * width + c] += rows[a * width + c] }
    }
  }
}

/// One configuration through an evaluator's `compute` (`evaluation`): images built, the neighbour
/// list made, ghosts' forces and virials folded back onto their atoms.
func evaluateSinglePoint(
  positions: [Double], types: [Int32], cell: [Double]?, cutoff: Double, typeMap: [String],
  evaluation: (SinglePointInputs) -> DeepPotentialResult
) throws -> SinglePointResult {
  let n = types.count
  guard positions.count == 3 * n else {
    throw DeepPotentialError("expected \(3 * n) coordinates for \(n) atoms, found \(positions.count)")
  }
  guard positions.allSatisfy(\.isFinite) else { throw DeepPotentialError("non-finite coordinates") }
  for t in types where t < 0 || Int(t) >= typeMap.count {
    throw DeepPotentialError("atom type \(t) is not in the model's type map \(typeMap)")
  }
  let points = (0..<n).map { SIMD3(positions[3 * $0], positions[3 * $0 + 1], positions[3 * $0 + 2]) }
  let extended = try cell.map { try PeriodicConfiguration(points, types: types, cell: $0, cutoff: cutoff) }
  let (atoms, box) = extended.map { ($0.atoms, $0.cell.box) } ?? cluster(points, types: types, cutoff: cutoff)
  // Turning the frame moves distances by rounding: the list reaches a hair beyond r_c, and the
  // model's neighbour selection keeps r ≤ r_c in the frame it evaluates in.
  let list = NeighborList(kind: .full, cutoff: cutoff * (1 + 1e-10))
  list.build(atoms, box: box)

  let total = atoms.totalCount
  let allPositions = extended?.positions ?? positions
  let modelTypes = (0..<total).map { atoms.type[$0] - 1 }
  var forces = [Double](repeating: 0, count: 3 * total)
  var atomEnergies = [Double](repeating: 0, count: n)
  var atomVirials = [Double](repeating: 0, count: 9 * total)
  let images = ImageGhostRows(owner: (0..<total).map { Int(atoms.tag[$0]) - 1 }, ownedCount: n)
  // The arrays' pointers live for the call (empty arrays included), and the inputs only as long.
  func evaluate(_ x: UnsafePointer<Double>, _ t: UnsafePointer<Int32>, _ offsets: UnsafePointer<Int32>,
                _ neighbors: UnsafePointer<Int32>, _ f: UnsafeMutablePointer<Double>, _ e: UnsafeMutablePointer<Double>,
                _ w: UnsafeMutablePointer<Double>) -> DeepPotentialResult {
    evaluation(SinglePointInputs(positions: x, types: t, ownedCount: n, totalCount: total, offsets: offsets,
                                 neighbors: neighbors, forces: f, atomEnergies: e, atomVirials: w, images: images))
  }
  let result = evaluate(allPositions, modelTypes, list.offsets, list.neighbors, &forces, &atomEnergies, &atomVirials)
  // Images act on the atoms they copy.
  var ownedForces = [Double](repeating: 0, count: 3 * n)
  var ownedVirials = [Double](repeating: 0, count: 9 * n)
  for a in 0..<total {
    let owner = Int(atoms.tag[a]) - 1
    for c in 0..<3 { ownedForces[3 * owner + c] += forces[3 * a + c] }
    for c in 0..<9 { ownedVirials[9 * owner + c] += atomVirials[9 * a + c] }
  }
  return SinglePointResult(energy: result.energy, forces: ownedForces, virial: Array(result.virial.elements),
                           atomEnergies: atomEnergies, atomVirials: ownedVirials,
                           overflowAtoms: result.overflowAtoms)
}

/// A cluster as a run holds it: atom i with id i + 1 and LAMMPS type (model type + 1), in its bounding
/// box, at least a cut-off wide, with no periodic dimension.
private func cluster(_ points: [SIMD3<Double>], types: [Int32], cutoff: Double) -> (AtomStore, Box) {
  let atoms = AtomStore(capacity: points.count)
  var lo = points.first ?? .zero, hi = lo
  for x in points { lo = pointwiseMin(lo, x); hi = pointwiseMax(hi, x) }
  let box = Box(lo: lo, hi: lo + pointwiseMax(hi - lo, SIMD3(repeating: cutoff)), periodic: [false, false, false])
  for (i, x) in points.enumerated() { atoms.appendOwned(tag: Int64(i + 1), type: types[i] + 1, position: x) }
  return (atoms, box)
}

/// A periodic configuration and its images, index for index in two frames: `atoms` (owned atoms as a
/// cluster's, then the images as ghosts, translation by translation, nearest first) in the turned
/// cell's box, where the neighbour list is built, and `positions` in the frame given.
private struct PeriodicConfiguration {
  let cell: GeneralCell
  let atoms: AtomStore
  var positions: [Double] = []

  init(_ points: [SIMD3<Double>], types: [Int32], cell h: [Double], cutoff: Double) throws {
    guard h.count == 9, h.allSatisfy(\.isFinite) else { throw DeepPotentialError("the cell needs 9 finite numbers") }
    guard let cell = GeneralCell(vectors: h) else { throw DeepPotentialError("the cell has zero volume") }
    self.cell = cell
    let box = cell.box
    let vectors = (SIMD3(h[0], h[1], h[2]), SIMD3(h[3], h[4], h[5]), SIMD3(h[6], h[7], h[8]))
    func translation(_ s: SIMD3<Int32>) -> SIMD3<Double> {
      Double(s.x) * vectors.0 + Double(s.y) * vectors.1 + Double(s.z) * vectors.2
    }
    let cells = (cutoff / box.faceDistance).rounded(.up)
    let imageAtoms = (2 * cells + 1).x * (2 * cells + 1).y * (2 * cells + 1).z * Double(points.count)
    guard imageAtoms <= Double(maxImageAtoms) else {
      throw DeepPotentialError("the cell's faces are \(box.faceDistance) Å apart, so the cut-off \(cutoff) Å reaches \(cells) cells along them: \(imageAtoms) atoms with images, more than the \(maxImageAtoms) a single point builds")
    }
    atoms = AtomStore(capacity: Int(imageAtoms))
    positions.reserveCapacity(3 * Int(imageAtoms))
    // Wrapped in the box; the same lattice translations undone in the frame given.
    var wrapped: [SIMD3<Double>] = []
    for (i, x) in points.enumerated() {
      var turned = cell.toBox(x), image = SIMD3<Int32>.zero
      box.wrap(&turned, image: &image)
      atoms.appendOwned(tag: Int64(i + 1), type: types[i] + 1, position: turned)
      wrapped.append(x - translation(image))
    }
    let reach = SIMD3<Int32>(cells)
    var shifts: [SIMD3<Int32>] = []
    for i in -reach.x...reach.x {
      for j in -reach.y...reach.y {
        for k in -reach.z...reach.z { shifts.append(SIMD3(i, j, k)) }
      }
    }
    // Nearest first, in enumeration order among equals (the zero shift, the atoms themselves, first).
    func norm(_ s: SIMD3<Int32>) -> Int { Int(s.x) * Int(s.x) + Int(s.y) * Int(s.y) + Int(s.z) * Int(s.z) }
    shifts = shifts.enumerated().sorted { (norm($0.element), $0.offset) < (norm($1.element), $1.offset) }.map(\.element)
    for s in shifts {
      let shift = translation(s), turnedShift = box.translation(SIMD3<Double>(s))
      for (i, x) in wrapped.enumerated() {
        if s != .zero { atoms.appendGhost(tag: Int64(i + 1), type: types[i] + 1, position: atoms.positionOf(i) + turnedShift) }
        let y = x + shift
        positions += [y.x, y.y, y.z]
      }
    }
  }
}

/// Atoms and images a single point takes: beyond this the cell is too small for the cut-off to be
/// meant (a few hundred bytes an image; DeePMD-kit would build them all).
private let maxImageAtoms = 50_000_000
