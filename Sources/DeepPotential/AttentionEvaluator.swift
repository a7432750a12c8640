/// Evaluates a DPA-1 energy model (`AttentionModel`) on one rank's atoms, owned atoms first, then
/// ghosts, with a full neighbour list of the owned atoms: the same contract as
/// `DeepPotentialEvaluator.compute`.
///
/// This is the plain reference path, atom by atom, in float64, following DeePMD-kit's PyTorch
/// descriptor (`deepmd/pt/model/descriptor/se_atten.py`) step by step: environment rows of the
/// nearest `sel` neighbours of any type, the type-embedded radial embedding, the attention layers,
/// the contraction, the fitting network; then a hand-written backward pass through each of those
/// steps in reverse, to ∂E_i/∂r_ij of every neighbour. Its storage is allocated once, at init.
public final class AttentionEvaluator {
  public let model: AttentionModel
  let selection: NeighborSelection
  let slotCount, width, axes: Int
  let geometric: NetworkTape
  let fittings: [NetworkTape]
  let state: AttentionState

  public init(model: AttentionModel) {
    self.model = model
    selection = NeighborSelection(model: model)
    slotCount = model.selection
    width = model.embeddingWidth
    axes = model.axisCount
    switch model.inputMode {
    case .concat(let network), .strip(let network, _): geometric = NetworkTape(network, capacity: model.selection)
    }
    fittings = model.fittings.map { NetworkTape($0, capacity: 1) }
    state = AttentionState(model: model)
  }

  /// Adds forces on owned and ghost atoms into `forces` ([totalCount][3]), writes owned atoms'
  /// energies into `atomEnergies` and adds per-atom virials (9 components, DeePMD-kit order,
  /// attributed to the neighbour) into `atomVirials` ([totalCount][9]) when given. A negative type
  /// is an atom the model ignores. `centres` (default: every owned atom) limits the centres, so
  /// that threads can share a rank's atoms.
  public func compute(positions: UnsafePointer<Double>, types: UnsafePointer<Int32>, ownedCount: Int,
                      totalCount: Int, neighborOffsets: UnsafePointer<Int32>, neighbors: UnsafePointer<Int32>,
                      forces: UnsafeMutablePointer<Double>, atomEnergies: UnsafeMutablePointer<Double>? = nil,
                      atomVirials: UnsafeMutablePointer<Double>? = nil, centres: Range<Int>? = nil) -> DeepPotentialResult {
    var result = DeepPotentialResult()
    // DeePMD-kit gathers the type of padding slots through index 0 of its extended atoms (the
    // first local atom): it only shows where the type factor is not switched off (non-smooth).
    let paddingType = ownedCount > 0 && types[0] >= 0 ? Int(types[0]) : model.typeCount
    for i in centres ?? 0..<ownedCount {
      if types[i] < 0 {
        atomEnergies?[i] = 0
        continue
      }
      let list = UnsafeBufferPointer(start: neighbors + Int(neighborOffsets[i]),
                                     count: Int(neighborOffsets[i + 1] - neighborOffsets[i]))
      if selection.select(centre: i, positions: positions, types: types, neighbors: list, slots: state.slots) {
        result.overflowAtoms += 1
      }
      let energy = describeAndFit(atom: i, positions: positions, types: types, paddingType: paddingType)
      result.energy += energy
      atomEnergies?[i] = energy
      if model.atomExcluded[Int(types[i])] { continue }
      differentiate(atom: i, types: types, forces: forces, virial: &result.virial, atomVirials: atomVirials)
    }
    return result
  }

}

/// One atom's forward values (kept for the backward pass) and backward scratch, sized for the
/// model at init. Matrices are row-major, one row per neighbour slot.
final class AttentionState {
  /// The widest attention layer's hidden width (the per-layer blocks of q, k, v are that wide).
  let hidden: Int
  let slots: UnsafeMutablePointer<Int32>
  /// Per slot: normalised environment row R̂ (4), switch w and its slope, whether it is a real
  /// neighbour (1) or padding / excluded (0), displacement r_ij (3).
  let rows, switchValue, switchSlope, real, displacement: UnsafeMutablePointer<Double>
  /// Per slot, the type whose embedding it reads: the neighbour's, or for padding and excluded
  /// slots atom 0's (DeePMD-kit's gather).
  let typeRow: UnsafeMutablePointer<Int>
  /// r̂ = R̂[1:4]/max(|R̂[1:4]|, 1e-12) and that norm; the cosines r̂_a·r̂_b.
  let directions, directionNorm, cosines: UnsafeMutablePointer<Double>
  /// The strip factor f = N_t(types) (⊙ w when smooth); N(s) and dN/ds when they come from a table.
  let stripFactor, radialValues, radialSlope: UnsafeMutablePointer<Double>
  /// G before each attention layer and after the last: (layers + 1) × slots × M1.
  let embeddings: UnsafeMutablePointer<Double>
  /// Per layer: normalised q, k, v (slots × hidden each) and their norms, raw scaled scores A, softmax
  /// S, final weights, LayerNorm's x̂ and 1/σ.
  let queries, keys, values, norms, scores, softmax, weights, normalized, inverseDeviation: UnsafeMutablePointer<Double>
  /// G·W_in (slots × 3·hidden) and the attention output o = weights·v (slots × hidden), scratch.
  let projected, mixed: UnsafeMutablePointer<Double>
  /// T = Σ_k G_k ⊗ R̂_k / nnei (M1 × 4), the descriptor and ∂E/∂descriptor.
  let contraction, descriptor, descriptorGradient: UnsafeMutablePointer<Double>
  // Backward scratch.
  let gradient, gradientNext, projectionGradient, outputGradient, weightGradient, scoreGradient,
      rowGradient, switchGradient, directionGradient, contractionGradient: UnsafeMutablePointer<Double>
  let embeddingInputGradient: UnsafeMutablePointer<Double>

  init(model: AttentionModel) {
    let s = model.selection, m = model.embeddingWidth
    let layers = model.attentionLayers.count
    let h = model.attentionLayers.map(\.hidden).max() ?? 1
    hidden = h
    slots = zeroedBuffer(s)
    rows = zeroedBuffer(4 * s)
    switchValue = zeroedBuffer(s)
    switchSlope = zeroedBuffer(s)
    real = zeroedBuffer(s)
    displacement = zeroedBuffer(3 * s)
    typeRow = zeroedBuffer(s)
    directions = zeroedBuffer(3 * s)
    directionNorm = zeroedBuffer(s)
    cosines = zeroedBuffer(s * s)
    stripFactor = zeroedBuffer(s * m)
    radialValues = zeroedBuffer(model.radialTable == nil ? 1 : s * m)
    radialSlope = zeroedBuffer(model.radialTable == nil ? 1 : s * m)
    embeddings = zeroedBuffer((layers + 1) * s * m)
    queries = zeroedBuffer(max(layers, 1) * s * h)
    keys = zeroedBuffer(max(layers, 1) * s * h)
    values = zeroedBuffer(max(layers, 1) * s * h)
    norms = zeroedBuffer(max(layers, 1) * 3 * s)
    scores = zeroedBuffer(max(layers, 1) * s * s)
    softmax = zeroedBuffer(max(layers, 1) * s * s)
    weights = zeroedBuffer(max(layers, 1) * s * s)
    normalized = zeroedBuffer(max(layers, 1) * s * m)
    inverseDeviation = zeroedBuffer(max(layers, 1) * s)
    projected = zeroedBuffer(s * 3 * h)
    mixed = zeroedBuffer(s * h)
    contraction = zeroedBuffer(4 * m)
    descriptor = zeroedBuffer(model.descriptorWidth)
    descriptorGradient = zeroedBuffer(model.descriptorWidth)
    gradient = zeroedBuffer(s * m)
    gradientNext = zeroedBuffer(s * m)
    projectionGradient = zeroedBuffer(s * 3 * h)
    outputGradient = zeroedBuffer(s * h)
    weightGradient = zeroedBuffer(s * s)
    scoreGradient = zeroedBuffer(s * s)
    rowGradient = zeroedBuffer(4 * s)
    switchGradient = zeroedBuffer(s)
    directionGradient = zeroedBuffer(3 * s)
    contractionGradient = zeroedBuffer(4 * m)
    let embeddingInputs: Int
    switch model.inputMode {
    case .concat(let network), .strip(let network, _): embeddingInputs = network.inputWidth
    }
    embeddingInputGradient = zeroedBuffer(s * embeddingInputs)
  }

  deinit {
    slots.deallocate()
    typeRow.deallocate()
    for p in [rows, switchValue, switchSlope, real, displacement, directions, directionNorm, cosines, stripFactor, radialValues, radialSlope,
              embeddings, queries, keys, values, norms, scores, softmax, weights, normalized, inverseDeviation,
              projected, mixed, contraction, descriptor, descriptorGradient, gradient, gradientNext, projectionGradient,
              outputGradient, weightGradient, scoreGradient, rowGradient, switchGradient, directionGradient,
              contractionGradient, embeddingInputGradient] {
      p.deallocate()
    }
  }
}
