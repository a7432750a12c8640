import CBLAS

/// What one evaluation produced besides forces.
public struct DeepPotentialResult: Sendable {
  /// Σ of the owned atoms' energies (eV).
  public var energy: Double = 0
  /// W = −Σ_i Σ_j (∂E_i/∂r_ij) ⊗ r_ij over owned centres, 9 components row-major (eV):
  /// DeePMD-kit's virial, whose LAMMPS xx yy zz xy xz yz are indices 0 4 8 3 6 7.
  /// (Fixed size, so that an evaluation allocates nothing.)
  public var virial = InlineArray<9, Double>(repeating: 0)
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
  /// When every reachable (centre, neighbour) pair has a table (and M1 is a multiple of four):
  /// the tables, whose embeddings are evaluated inside the contraction and its gradient
  /// (`FusedTable`), not stored.
  let fusedTables: FusedTables?
  // Per atom, reused: its slots, then embedding inputs and backward products.
  let slots: UnsafeMutablePointer<Int32>
  let radialInput: UnsafeMutablePointer<Double>
  let rowGradient: UnsafeMutablePointer<Double>
  let contractionGradient: UnsafeMutablePointer<Double>
  let embeddingWorkspace = EmbeddingWorkspace<Double>()
  // Per type group of a block, for the fitting networks.
  private let packedInput: UnsafeMutablePointer<Double>
  private let packedGradient: UnsafeMutablePointer<Double>
  private let packedOutput: UnsafeMutablePointer<Double>
  private let members: UnsafeMutablePointer<Int>
  private let fittingWorkspace = FittingWorkspace<Double>()
  public let precision: NetworkPrecision
  /// The networks in Float when `precision` is float32.
  let single: SinglePrecisionNetworks?
  /// Evaluates a DPA-1 model (always in float64) in place of the se_e2_a path.
  let attention: AttentionEvaluator?
  /// Evaluates a se_e2_r, se_e3 or se_e3_tebd model (float64) in place of the se_e2_a path.
  let scalarDescriptor: ScalarDescriptorEvaluator?
  /// Evaluates a hybrid model (float64) in place of the se_e2_a path.
  let hybrid: HybridEvaluator?

  /// `fusingTables` false keeps a compressed model's embeddings stored as an uncompressed model's
  /// are (the fused kernels are tested against that path).
  public init(model: DeepPotentialModel, precision: NetworkPrecision = .float64, fusingTables: Bool = true) {
    // One thread per rank: ranks already fill the cores, and BLAS threads on small blocks only cost.
    openblas_set_num_threads(1)
    // Callers give a model's fparam/aparam (`withParameters`) where they read the deck or command line.
    precondition(!model.awaitsParameters, "\(model.path): evaluated before its fparam/aparam were given")
    self.model = model
    self.precision = precision
    single = precision == .float32 ? SinglePrecisionNetworks(model) : nil
    attention = model.attention.map(AttentionEvaluator.init)
    scalarDescriptor = model.scalarDescriptor.map(ScalarDescriptorEvaluator.init)
    hybrid = model.hybrid.map(HybridEvaluator.init)
    selection = NeighborSelection(model: model)
    slotCount = model.slotCount
    width = model.embeddingWidth
    axes = model.axisCount
    var start = [0]
    for s in model.selection { start.append(start[start.count - 1] + s) }
    sectionStart = start
    padding = PaddingEmbedding(model: model, sectionStart: start)
    let n = model.typeCount
    let fusesTables = fusingTables && model.embeddingWidth % 4 == 0 && model.tables.map { tables in
      (0..<n).allSatisfy { centre in
        (0..<n).allSatisfy { neighbor in
          model.selection[neighbor] == 0 || model.descriptorExcluded[centre * n + neighbor]
            || tables[model.embeddingIndex(centre: centre, neighbor: neighbor)] != nil
        }
      }
    } ?? false
    fusedTables = fusesTables
      ? FusedTables(model.tables!, precision: precision, slots: slotCount, width: width) : nil
    // Stored embeddings (2·nnei·M1 values per atom) should stay in cache: 16, 64 and 128 atoms per
    // block timed alike for the copper model (the fitting networks' products gain at 64+ what the
    // embeddings lose in cache). Without them, larger blocks make those products efficient (their
    // weights are packed once per block).
    let atoms = fusesTables ? 128 : 16
    block = BlockBuffers(atoms: atoms, slots: slotCount, sections: n, width: width, axes: axes,
                         storesEmbeddings: !fusesTables)
    slots = zeroedBuffer(slotCount)
    radialInput = zeroedBuffer(slotCount)
    rowGradient = zeroedBuffer(2 * slotCount * 4)
    contractionGradient = zeroedBuffer(4 * width)
    packedInput = zeroedBuffer(atoms * width * axes)
    packedGradient = zeroedBuffer(atoms * width * axes)
    packedOutput = zeroedBuffer(atoms)
    members = zeroedBuffer(atoms)
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
  /// `types` are model type indices; a negative type is an atom this model ignores. `centres`
  /// (default: every owned atom) limits the evaluation to some owned atoms as centres, so that
  /// threads can share a rank's atoms.
  public func compute(positions: UnsafePointer<Double>, types: UnsafePointer<Int32>, ownedCount: Int,
                      totalCount: Int, neighborOffsets: UnsafePointer<Int32>, neighbors: UnsafePointer<Int32>,
                      forces: UnsafeMutablePointer<Double>, atomEnergies: UnsafeMutablePointer<Double>? = nil,
                      atomVirials: UnsafeMutablePointer<Double>? = nil, centres: Range<Int>? = nil,
                      sharing: SlotSharing = .none) -> DeepPotentialResult {
    let centres = centres ?? 0..<ownedCount
    if let attention {
      // DPA-1 selects its own slots; an ensemble never shares them with it (`selectsLike`).
      return attention.compute(positions: positions, types: types, ownedCount: ownedCount, totalCount: totalCount,
                               neighborOffsets: neighborOffsets, neighbors: neighbors, forces: forces,
                               atomEnergies: atomEnergies, atomVirials: atomVirials, centres: centres)
    }
    if let hybrid {
      return hybrid.compute(positions: positions, types: types, ownedCount: ownedCount, totalCount: totalCount,
                            neighborOffsets: neighborOffsets, neighbors: neighbors, forces: forces,
                            atomEnergies: atomEnergies, atomVirials: atomVirials, centres: centres)
    }
    if let scalarDescriptor {
      // Selects its own slots too (`selectsLike` is false for it).
      return scalarDescriptor.compute(positions: positions, types: types, ownedCount: ownedCount,
                                      totalCount: totalCount, neighborOffsets: neighborOffsets, neighbors: neighbors,
                                      forces: forces, atomEnergies: atomEnergies, atomVirials: atomVirials,
                                      centres: centres)
    }
    var result = DeepPotentialResult()
    var blockStart = centres.lowerBound
    while blockStart < centres.upperBound {
      let atoms = blockStart..<min(blockStart + block.atomCapacity, centres.upperBound)
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
      // A block of one type (every block of a one-element model) is already packed.
      let packed = count == atoms.count
      let input = packed ? block.descriptor : packedInput
      let gradient = packed ? block.descriptorGradient : packedGradient
      if !packed {
        for r in 0..<count {
          (packedInput + r * inputWidth).update(from: block.descriptor + members[r] * inputWidth, count: inputWidth)
        }
      }
      if let single {
        let singleInput = single.input.reserve(count * inputWidth)
        let singleGradient = single.gradient.reserve(count * inputWidth)
        let output = single.output.reserve(count)
        for at in 0..<(count * inputWidth) { singleInput[at] = Float(input[at]) }
        single.fittings[t].evaluateWithGradient(singleInput, rows: count, outputs: output, gradient: singleGradient,
                                                workspace: single.fittingWorkspace)
        for at in 0..<(count * inputWidth) { gradient[at] = Double(singleGradient[at]) }
        for r in 0..<count { packedOutput[r] = Double(output[r]) }
      } else {
        model.fittings[t].evaluateWithGradient(input, rows: count, outputs: packedOutput,
                                               gradient: gradient, workspace: fittingWorkspace)
      }
      for r in 0..<count {
        let b = members[r]
        block.atomEnergy[b] = ((packedOutput[r] - model.vacuumEnergy[t]) + model.fittingBias[t]) + model.outputBias[t]
        if !packed {
          (block.descriptorGradient + b * inputWidth).update(from: packedGradient + r * inputWidth, count: inputWidth)
        }
      }
    }
  }
}
