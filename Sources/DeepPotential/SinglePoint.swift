import Geometry

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
  /// Periodic images are built as DeePMD-kit builds them (spec §2.2): coordinates wrapped into the
  /// cell, then copies shifted by every lattice translation within ⌈r_c / face distance⌉ cells,
  /// so cells smaller than twice the cut-off work (an atom sees its own images).
  public func evaluate(positions: [Double], types: [Int32], cell: [Double]?) throws -> SinglePointResult {
    try evaluateSinglePoint(positions: positions, types: types, cell: cell, cutoff: model.cutoff,
                            typeMap: model.typeMap) {
      compute(positions: $0, types: $1, ownedCount: $2, totalCount: $3, neighborOffsets: $4, neighbors: $5,
              forces: $6, atomEnergies: $7, atomVirials: $8)
    }
  }
}

extension AttentionEvaluator {
  /// Evaluates one configuration as `DeepPotentialEvaluator.evaluate(positions:types:cell:)` does.
  public func evaluate(positions: [Double], types: [Int32], cell: [Double]?) throws -> SinglePointResult {
    try evaluateSinglePoint(positions: positions, types: types, cell: cell, cutoff: model.cutoff,
                            typeMap: model.typeMap) {
      compute(positions: $0, types: $1, ownedCount: $2, totalCount: $3, neighborOffsets: $4, neighbors: $5,
              forces: $6, atomEnergies: $7, atomVirials: $8)
    }
  }
}

/// One configuration through an evaluator's `compute` (`evaluation`, given positions, types,
/// owned and total counts, neighbour offsets and indices, forces, atomic energies and virials):
/// images built, the neighbour list made, ghosts' forces and virials folded back onto their atoms.
private func evaluateSinglePoint(
  positions: [Double], types: [Int32], cell: [Double]?, cutoff: Double, typeMap: [String],
  evaluation: (UnsafePointer<Double>, UnsafePointer<Int32>, Int, Int, UnsafePointer<Int32>, UnsafePointer<Int32>,
               UnsafeMutablePointer<Double>, UnsafeMutablePointer<Double>, UnsafeMutablePointer<Double>) -> DeepPotentialResult
) throws -> SinglePointResult {
  let n = types.count
  guard positions.count == 3 * n else {
    throw DeepPotentialError("expected \(3 * n) coordinates for \(n) atoms, found \(positions.count)")
  }
  guard positions.allSatisfy(\.isFinite) else { throw DeepPotentialError("non-finite coordinates") }
  for t in types where t < 0 || Int(t) >= typeMap.count {
    throw DeepPotentialError("atom type \(t) is not in the model's type map \(typeMap)")
  }
  let extended = try cell.map { try PeriodicImages(positions: positions, cell: $0, cutoff: cutoff) }
  let allPositions = extended?.positions ?? positions
  let owner = extended?.owner ?? Array(0..<n)
  let total = owner.count
  let allTypes = owner.map { types[$0] }
  let (offsets, neighbors) = fullNeighborList(positions: allPositions, ownedCount: n, cutoff: cutoff)

  var forces = [Double](repeating: 0, count: 3 * total)
  var atomEnergies = [Double](repeating: 0, count: n)
  var atomVirials = [Double](repeating: 0, count: 9 * total)
  let result = evaluation(allPositions, allTypes, n, total, offsets, neighbors, &forces, &atomEnergies, &atomVirials)
  // Images act on the atoms they copy.
  var ownedForces = [Double](repeating: 0, count: 3 * n)
  var ownedVirials = [Double](repeating: 0, count: 9 * n)
  for a in 0..<total {
    for c in 0..<3 { ownedForces[3 * owner[a] + c] += forces[3 * a + c] }
    for c in 0..<9 { ownedVirials[9 * owner[a] + c] += atomVirials[9 * a + c] }
  }
  return SinglePointResult(energy: result.energy, forces: ownedForces, virial: result.virial.elements,
                           atomEnergies: atomEnergies, atomVirials: ownedVirials,
                           overflowAtoms: result.overflowAtoms)
}

/// A periodic configuration extended by its images: the originals (wrapped) first, then shift by
/// shift, nearest shifts first.
struct PeriodicImages {
  var positions: [Double]
  var owner: [Int]

  init(positions x: [Double], cell h: [Double], cutoff: Double) throws {
    guard h.count == 9, h.allSatisfy(\.isFinite) else { throw DeepPotentialError("the cell needs 9 finite numbers") }
    let a = SIMD3(h[0], h[1], h[2]), b = SIMD3(h[3], h[4], h[5]), c = SIMD3(h[6], h[7], h[8])
    let volume = dot(a, cross(b, c))
    guard abs(volume) > 1e-12 else { throw DeepPotentialError("the cell has zero volume") }
    // Rows of the inverse cell: fractional f = x·H⁻¹ has components (x·(b×c), x·(c×a), x·(a×b)) / V.
    let dual = (cross(b, c) / volume, cross(c, a) / volume, cross(a, b) / volume)
    let faces = SIMD3(abs(volume) / length(cross(b, c)), abs(volume) / length(cross(c, a)),
                      abs(volume) / length(cross(a, b)))
    let reach = SIMD3<Int>((cutoff / faces).rounded(.up))
    var shifts: [SIMD3<Int>] = []
    for i in -reach.x...reach.x {
      for j in -reach.y...reach.y {
        for k in -reach.z...reach.z { shifts.append(SIMD3(i, j, k)) }
      }
    }
    func norm(_ s: SIMD3<Int>) -> Int { s.x * s.x + s.y * s.y + s.z * s.z }
    shifts = shifts.enumerated().sorted { (norm($0.element), $0.offset) < (norm($1.element), $1.offset) }.map(\.element)
    let n = x.count / 3
    var wrapped = [SIMD3<Double>]()
    for i in 0..<n {
      let r = SIMD3(x[3 * i], x[3 * i + 1], x[3 * i + 2])
      var f = SIMD3(dot(r, dual.0), dot(r, dual.1), dot(r, dual.2))
      f -= f.rounded(.down)
      wrapped.append(f.x * a + f.y * b + f.z * c)
    }
    positions = []
    owner = []
    positions.reserveCapacity(3 * n * shifts.count)
    for s in shifts {
      let translation = Double(s.x) * a + Double(s.y) * b + Double(s.z) * c
      for i in 0..<n {
        let r = wrapped[i] + translation
        positions += [r.x, r.y, r.z]
        owner.append(i)
      }
    }
  }
}

/// Full list of the first `ownedCount` atoms against all atoms within `cutoff`, by cubic bins.
func fullNeighborList(positions x: [Double], ownedCount: Int, cutoff: Double) -> ([Int32], [Int32]) {
  let total = x.count / 3
  var lo = SIMD3<Double>(repeating: .infinity), hi = SIMD3<Double>(repeating: -.infinity)
  for a in 0..<total {
    let r = SIMD3(x[3 * a], x[3 * a + 1], x[3 * a + 2])
    lo = pointwiseMin(lo, r)
    hi = pointwiseMax(hi, r)
  }
  if total == 0 { lo = .zero; hi = .zero }
  // Bins at least a cut-off wide, and at most 1000 per dimension however spread out a cluster is.
  let side = pointwiseMax(SIMD3(repeating: max(cutoff, 1e-6)), (hi - lo) / 1000)
  let counts = SIMD3<Int>(((hi - lo) / side).rounded(.down)) &+ 1
  func bin(_ a: Int) -> SIMD3<Int> {
    SIMD3<Int>(((SIMD3(x[3 * a], x[3 * a + 1], x[3 * a + 2]) - lo) / side).rounded(.down))
  }
  var members = [[Int32]](repeating: [], count: counts.x * counts.y * counts.z)
  func index(_ c: SIMD3<Int>) -> Int { c.x + counts.x * (c.y + counts.y * c.z) }
  for a in 0..<total { members[index(bin(a))].append(Int32(a)) }
  var offsets: [Int32] = [0], neighbors: [Int32] = []
  let cut2 = cutoff * cutoff
  for i in 0..<ownedCount {
    let c = bin(i)
    for dz in -1...1 {
      for dy in -1...1 {
        for dx in -1...1 {
          let q = c &+ SIMD3(dx, dy, dz)
          if q.x < 0 || q.y < 0 || q.z < 0 || q.x >= counts.x || q.y >= counts.y || q.z >= counts.z { continue }
          for j in members[index(q)] where Int(j) != i {
            let d = SIMD3(x[3 * Int(j)], x[3 * Int(j) + 1], x[3 * Int(j) + 2]) - SIMD3(x[3 * i], x[3 * i + 1], x[3 * i + 2])
            if (d * d).sum() <= cut2 { neighbors.append(j) }
          }
        }
      }
    }
    offsets.append(Int32(neighbors.count))
  }
  return (offsets, neighbors)
}

private func length(_ a: SIMD3<Double>) -> Double { dot(a, a).squareRoot() }
