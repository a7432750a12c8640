import Atoms


extension RepflowEvaluator {
  /// Evaluates one configuration as `DeepPotentialEvaluator.evaluate(positions:types:cell:)`
  /// builds it (periodic images within e_rcut, nearest shifts first); the images are the ghosts,
  /// their node features forwarded from the atoms they copy before every layer and their feature
  /// gradients summed back after every layer's backward pass; an image's forces and per-atom
  /// virial are folded onto the atom it copies.
  /// `forces` false skips the backward pass (forces, virial and per-atom virials then zero).
  public func evaluate(positions: [Double], types: [Int32], cell: [Double]?, forces wanted: Bool = true) throws -> SinglePointResult {
    let n = types.count
    guard positions.count == 3 * n else {
      throw DeepPotentialError("expected \(3 * n) coordinates for \(n) atoms, found \(positions.count)")
    }
    guard positions.allSatisfy(\.isFinite) else { throw DeepPotentialError("non-finite coordinates") }
    for t in types where t < 0 || Int(t) >= model.typeCount {
      throw DeepPotentialError("atom type \(t) is not in the model's type map \(model.typeMap)")
    }
    let extended = try cell.map { try PeriodicImages(positions: positions, cell: $0, cutoff: model.cutoff) }
    let allPositions = extended?.positions ?? positions
    let images = ImageGhostRows(owner: extended?.owner ?? Array(0..<n), ownedCount: n)
    let allTypes = images.owner.map { types[$0] }
    let (offsets, neighbors) = fullNeighborList(positions: allPositions, ownedCount: n, cutoff: model.cutoff)
    var atomEnergies = [Double](repeating: 0, count: n)
    var forces = [Double](repeating: 0, count: 3 * images.owner.count)
    var atomVirials = [Double](repeating: 0, count: 9 * images.owner.count)
    let result = forces.withUnsafeMutableBufferPointer { f in
      atomVirials.withUnsafeMutableBufferPointer { v in
        compute(positions: allPositions, types: allTypes, ownedCount: n, totalCount: images.owner.count,
                neighborOffsets: offsets, neighbors: neighbors, ghosts: images, atomEnergies: &atomEnergies,
                forces: wanted ? f.baseAddress! : nil, atomVirials: wanted ? v.baseAddress! : nil)
      }
    }
    // Images act on the atoms they copy.
    var ownedForces = [Double](repeating: 0, count: 3 * n)
    var ownedVirials = [Double](repeating: 0, count: 9 * n)
    for a in 0..<images.owner.count {
      for c in 0..<3 { ownedForces[3 * images.owner[a] + c] += forces[3 * a + c] }
      for c in 0..<9 { ownedVirials[9 * images.owner[a] + c] += atomVirials[9 * a + c] }
    }
    return SinglePointResult(energy: result.energy, forces: ownedForces, virial: result.virial.elements,
                             atomEnergies: atomEnergies, atomVirials: ownedVirials, overflowAtoms: result.overflowAtoms)
  }
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
