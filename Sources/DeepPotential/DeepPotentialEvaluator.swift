import CBLAS

/// What one evaluation produced besides forces.
public struct DeepPotentialResult: Sendable {
  /// Σ of the owned atoms' energies (eV).
  public var energy: Double = 0
  /// W = −Σ_i Σ_j (∂E_i/∂r_ij) ⊗ r_ij over owned centres, 9 components row-major (eV):
  /// DeePMD-kit's virial, whose LAMMPS xx yy zz xy xz yz are indices 0 4 8 3 6 7.
  public var virial = [Double](repeating: 0, count: 9)
  /// Owned atoms that had more neighbours of some type within r_c than `sel` allows.
  public var overflowAtoms = 0
}

/// How an evaluation treats the neighbour selection of an ensemble whose models select alike
/// (`DeepPotentialModel.selectsLike`): the first model records every owned atom's slots
/// ([ownedCount][slotCount]), the others reuse them instead of sorting the neighbours again.
public enum SlotSharing {
  case none
  case record(UnsafeMutablePointer<Int32>)
  case reuse(UnsafePointer<Int32>)
}

/// Evaluates a se_e2_a energy model on one rank's atoms: owned atoms first, then ghosts (periodic
/// images or other ranks' atoms), with a full neighbour list of the owned atoms that contains at
/// least every atom within the model's cut-off.
///
/// Atoms are processed in blocks: the descriptor of each atom of a block (embedding networks over
/// its active neighbour slots, one batch per section; padding comes precomputed from
/// `PaddingEmbedding`), then the fitting networks over the block's atoms grouped by type, then
/// the backward pass to forces and virials. Dense products go through BLAS; the elementwise work
/// of each layer is vectorised (`vectorTanh`, `DenseLayer.apply`).
public final class DeepPotentialEvaluator {
  public let model: DeepPotentialModel
  private let selection: NeighborSelection
  let slotCount, width, axes: Int
  let sectionStart: [Int]
  let padding: PaddingEmbedding
  let block: BlockBuffers
  // Per atom, reused: its slots, then embedding inputs and backward products.
  let slots: UnsafeMutablePointer<Int32>
  let radialInput: UnsafeMutablePointer<Double>
  let rowGradient: UnsafeMutablePointer<Double>
  let contractionGradient: UnsafeMutablePointer<Double>
  let embeddingWorkspace = EmbeddingWorkspace()
  // Per type group of a block, for the fitting networks.
  private let packedInput: UnsafeMutablePointer<Double>
  private let packedGradient: UnsafeMutablePointer<Double>
  private let packedOutput: UnsafeMutablePointer<Double>
  private let members: UnsafeMutablePointer<Int>
  private let fittingWorkspace = FittingWorkspace()

  public init(model: DeepPotentialModel) {
    // One thread per rank: ranks already fill the cores, and BLAS threads on small blocks only cost.
    openblas_set_num_threads(1)
    self.model = model
    selection = NeighborSelection(model: model)
    slotCount = model.slotCount
    width = model.embeddingWidth
    axes = model.axisCount
    var start = [0]
    for s in model.selection { start.append(start[start.count - 1] + s) }
    sectionStart = start
    padding = PaddingEmbedding(model: model, sectionStart: start)
    // 16 to 64 atoms per block timed alike for the copper model; fewer keep the stored
    // embeddings (2·nnei·M1 values per atom) in cache.
    let atoms = 16
    block = BlockBuffers(atoms: atoms, slots: slotCount, sections: model.typeCount, width: width, axes: axes)
    func zeros<T: Numeric>(_ count: Int) -> UnsafeMutablePointer<T> {
      let p = UnsafeMutablePointer<T>.allocate(capacity: count)
      p.initialize(repeating: 0, count: count)
      return p
    }
    slots = zeros(slotCount)
    radialInput = zeros(slotCount)
    rowGradient = zeros(2 * slotCount * 4)
    contractionGradient = zeros(4 * width)
    packedInput = zeros(atoms * width * axes)
    packedGradient = zeros(atoms * width * axes)
    packedOutput = zeros(atoms)
    members = zeros(atoms)
  }

  deinit {
    for p in [radialInput, rowGradient, contractionGradient, packedInput, packedGradient, packedOutput] {
      p.deallocate()
    }
    slots.deallocate()
    members.deallocate()
  }

  /// Adds forces on owned and ghost atoms into `forces` (packed [totalCount][3]), writes owned atoms'
  /// energies into `atomEnergies` and adds per-atom virials (9 components, DeePMD-kit order,
  /// attributed to the neighbour) into `atomVirials` ([totalCount][9]) when given.
  /// `types` are model type indices; a negative type is an atom this model ignores.
  public func compute(positions: UnsafePointer<Double>, types: UnsafePointer<Int32>, ownedCount: Int,
                      totalCount: Int, neighborOffsets: UnsafePointer<Int32>, neighbors: UnsafePointer<Int32>,
                      forces: UnsafeMutablePointer<Double>, atomEnergies: UnsafeMutablePointer<Double>? = nil,
                      atomVirials: UnsafeMutablePointer<Double>? = nil,
                      sharing: SlotSharing = .none) -> DeepPotentialResult {
    var result = DeepPotentialResult()
    var blockStart = 0
    while blockStart < ownedCount {
      let atoms = blockStart..<min(blockStart + block.atomCapacity, ownedCount)
      for (b, i) in atoms.enumerated() {
        if types[i] < 0 { continue }
        let list = UnsafeBufferPointer(start: neighbors + Int(neighborOffsets[i]),
                                       count: Int(neighborOffsets[i + 1] - neighborOffsets[i]))
        switch sharing {
        case .reuse(let stored):
          slots.update(from: stored + i * slotCount, count: slotCount)
        case .none, .record:
          if selection.select(centre: i, positions: positions, types: types, neighbors: list, slots: slots) {
            result.overflowAtoms += 1
          }
          if case .record(let store) = sharing { (store + i * slotCount).update(from: slots, count: slotCount) }
        }
        describe(atom: i, at: b, positions: positions, types: types)
      }
      fit(atoms: atoms, types: types)
      for (b, i) in atoms.enumerated() where types[i] >= 0 {
        result.energy += block.atomEnergy[b]
        atomEnergies?[i] = block.atomEnergy[b]
        differentiate(atom: i, at: b, types: types, forces: forces, virial: &result.virial, atomVirials: atomVirials)
      }
      if let atomEnergies {
        for i in atoms where types[i] < 0 { atomEnergies[i] = 0 }
      }
      blockStart = atoms.upperBound
    }
    return result
  }

  /// s(r) switch (spec §3.1): 1 below r_s, 0 beyond r_c, C² in between.
  @inline(__always)
  func switching(_ r: Double) -> (value: Double, slope: Double) {
    let rs = model.smoothingStart, rc = model.cutoff
    if r <= rs { return (1, 0) }
    if r >= rc { return (0, 0) }
    let u = (r - rs) / (rc - rs)
    let value = u * u * u * (-6 * u * u + 15 * u - 10) + 1
    let slope = -30 * u * u * (1 - u) * (1 - u) / (rc - rs)
    return (value, slope)
  }

  /// Atomic energies and ∂E_i/∂D for the block, one fitting network per type.
  private func fit(atoms: Range<Int>, types: UnsafePointer<Int32>) {
    let inputWidth = width * axes
    for t in 0..<model.typeCount {
      var count = 0
      for (b, i) in atoms.enumerated() where Int(types[i]) == t {
        members[count] = b
        count += 1
      }
      if count == 0 { continue }
      if model.atomExcluded[t] {
        for r in 0..<count {
          block.atomEnergy[members[r]] = 0
          (block.descriptorGradient + members[r] * inputWidth).update(repeating: 0, count: inputWidth)
        }
        continue
      }
      for r in 0..<count {
        (packedInput + r * inputWidth).update(from: block.descriptor + members[r] * inputWidth, count: inputWidth)
      }
      model.fittings[t].evaluateWithGradient(packedInput, rows: count, outputs: packedOutput,
                                             gradient: packedGradient, workspace: fittingWorkspace)
      for r in 0..<count {
        let b = members[r]
        block.atomEnergy[b] = ((packedOutput[r] - model.vacuumEnergy[t]) + model.fittingBias[t]) + model.outputBias[t]
        (block.descriptorGradient + b * inputWidth).update(from: packedGradient + r * inputWidth, count: inputWidth)
      }
    }
  }
}
