import Atoms
import Foundation

/// Energies, forces and virial of a DPA-2 model (`RepformerModel`) on one rank's atoms, owned atoms
/// first, then ghosts, with a full neighbour list of the owned atoms (the contract of
/// `RepflowEvaluator.compute`).
///
/// The plain float64 reference path, atom by atom, following DeePMD-kit's NumPy descriptor
/// (`deepmd/dpmodel/descriptor/dpa2.py`, `repformers.py`). Per owned atom, one neighbour selection
/// (repinit's rcut and sel, sorted by distance); the repinit block (`AttentionEvaluator`) and the
/// three-body block (`ScalarDescriptorEvaluator`, on the list's first three_body_sel neighbours
/// within its cut-off) give the first g1; the repformer's edges are the list's first sel neighbours
/// within its own cut-off. g1 is forwarded to the ghosts through `GhostRows` before every repformer
/// layer and, with forces, ghosts' g1 gradients are reverse-summed into their owners after every
/// layer's backward pass, so that P ranks give one rank's result with a ghost shell of one cut-off.
public final class RepformerEvaluator {
  public let model: RepformerModel
  let selection: NeighborSelection
  let repinit: AttentionEvaluator
  let threeBody: ScalarDescriptorEvaluator?
  private let fittings: [NetworkTape]

  public init(model: RepformerModel) {
    self.model = model
    selection = NeighborSelection(model: model.repinit)
    repinit = AttentionEvaluator(model: model.repinit)
    threeBody = model.threeBody.map { ScalarDescriptorEvaluator(model: $0) }
    fittings = model.fittings.map { NetworkTape($0, capacity: 1) }
  }

  /// As `RepflowEvaluator.compute`: owned atoms' energies written into `atomEnergies`; with
  /// `forces` ([totalCount][3], added into) the forces and virial, and with `atomVirials`
  /// ([totalCount][9], added into) DeePMD-kit's per-atom virials; ghosts' rows are folded onto their
  /// owners by the caller. `ghosts` is collective: every rank calls this alike.
  public func compute(positions x: UnsafePointer<Double>, types: UnsafePointer<Int32>, ownedCount: Int,
                      totalCount: Int, neighborOffsets: UnsafePointer<Int32>, neighbors: UnsafePointer<Int32>,
                      ghosts: GhostRows, atomEnergies: UnsafeMutablePointer<Double>,
                      forces: UnsafeMutablePointer<Double>? = nil,
                      atomVirials: UnsafeMutablePointer<Double>? = nil) -> DeepPotentialResult {
    var result = DeepPotentialResult()
    let m = model, ng1 = m.g1Width, ng2 = m.g2Width, width = m.repinitWidth, listSlots = m.listSelection
    let paddingType = ownedCount > 0 && types[0] >= 0 ? Int(types[0]) : m.typeCount
    var graph = RepformerGraph()
    // Each owned atom's list (kept to re-describe it in the backward pass) and repinit output.
    var slots = [Int32](repeating: -1, count: max(ownedCount, 1) * listSlots)
    var repinitOut = [Double](repeating: 0, count: max(ownedCount, 1) * width)
    for i in 0..<ownedCount {
      guard types[i] >= 0 else { graph.appendCentre(); continue }
      let list = UnsafeBufferPointer(start: neighbors + Int(neighborOffsets[i]),
                                     count: Int(neighborOffsets[i + 1] - neighborOffsets[i]))
      if selection.select(centre: i, positions: x, types: types, neighbors: list, slots: repinit.state.slots) {
        result.overflowAtoms += 1
      }
      for k in 0..<listSlots { slots[i * listSlots + k] = repinit.state.slots[k] }
      describe(atom: i, slots: slots, positions: x, types: types, paddingType: paddingType)
      for c in 0..<m.repinit.descriptorWidth { repinitOut[i * width + c] = repinit.state.descriptor[c] }
      if let threeBody {
        for c in 0..<threeBody.model.descriptorWidth {
          repinitOut[i * width + m.repinit.descriptorWidth + c] = threeBody.descriptor[c]
        }
      }
      graph.appendCentre(model: m, atom: i, slots: slots[i * listSlots..<(i + 1) * listSlots], positions: x, types: types)
    }
    // At least one row, so that a rank without atoms still has buffers to join the exchanges with.
    let rows = max(totalCount, 1)
    var g1 = [Double](repeating: 0, count: rows * ng1)
    var shaped = [Double](repeating: 0, count: rows * ng1)
    for i in 0..<ownedCount where types[i] >= 0 {
      let input = Array(repinitOut[i * width..<(i + 1) * width])
      let z = m.shapeTransform.map { affine($0, input) } ?? input
      for c in 0..<ng1 {
        shaped[i * ng1 + c] = z[c]
        g1[i * ng1 + c] = m.activation.value(z[c])
      }
    }
    var g2 = graph.initialG2(model: m)
    var h2 = graph.initialH2()
    var tape: [(g1: [Double], g2: [Double], h2: [Double])] = []
    for layer in m.layers {
      g1.withUnsafeMutableBufferPointer { ghosts.forward($0.baseAddress!, width: ng1) }
      if forces != nil { tape.append((g1, g2, h2)) }
      let step = RepformerLayerStep(model: m, layer: layer, h2: h2)
      var nextG1 = g1, nextG2 = g2, nextH2 = h2
      for i in 0..<ownedCount where types[i] >= 0 {
        step.forward(graph.centre(i, model: m), graph: graph, g1: g1, g2: g2, nextG1: &nextG1, nextG2: &nextG2,
                     nextH2: &nextH2)
      }
      g1 = nextG1
      g2 = nextG2
      h2 = nextH2
    }
    var seed = [Double](repeating: 0, count: rows * ng1)
    let fittingGradient = UnsafeMutablePointer<Double>.allocate(capacity: m.descriptorWidth)
    defer { fittingGradient.deallocate() }
    var one = 1.0
    for i in 0..<ownedCount {
      guard types[i] >= 0 else { atomEnergies[i] = 0; continue }
      let t = Int(types[i]), fitting = fittings[t], tebd = m.typeEmbeddingWidth
      for c in 0..<ng1 { fitting.input[c] = g1[i * ng1 + c] }
      if m.appendsTypeEmbedding { for c in 0..<tebd { fitting.input[ng1 + c] = m.typeEmbedding[t * tebd + c] } }
      fitting.forward(rows: 1)
      let energy = ((fitting.output[0] - m.vacuumEnergy[t]) + m.fittingBias[t]) + m.outputBias[t]
      atomEnergies[i] = energy
      result.energy += energy
      if forces != nil {
        fitting.backward(&one, into: fittingGradient)
        for c in 0..<ng1 { seed[i * ng1 + c] = fittingGradient[c] }
      }
    }
    guard let forces else { return result }
    let pass = Backward(model: m, graph: graph, tape: tape, shaped: shaped, ownedCount: ownedCount, types: types,
                        rows: rows, ghosts: ghosts, edgeCount: g2.count / max(ng2, 1))
    let (geometry, repinitGradient) = pass.run(seed)
    graph.forces(model: m, positions: x, types: types, geometry: geometry, forces: forces, virial: &result.virial)
    for i in 0..<ownedCount where types[i] >= 0 {
      differentiate(atom: i, gradient: repinitGradient[i * width..<(i + 1) * width], slots: slots, positions: x,
                    types: types, paddingType: paddingType, forces: forces, virial: &result.virial,
                    atomVirials: atomVirials)
    }
    guard let atomVirials else { return result }
    // ∂(Σ_c x_c,q E_c)/∂ of every input: the fitting's gradients weighted by the centre's coordinate.
    var scratch = [Double](repeating: 0, count: 3 * rows)
    var unused = InlineArray<9, Double>(repeating: 0)
    for q in 0..<3 {
      var weighted = seed
      for i in 0..<ownedCount { for c in 0..<ng1 { weighted[i * ng1 + c] *= x[3 * i + q] } }
      let (weightedGeometry, weightedRepinit) = pass.run(weighted)
      graph.atomVirials(model: m, axis: q, positions: x, types: types, geometry: geometry, weighted: weightedGeometry,
                        into: atomVirials)
      // A repinit pair (i, j) adds ∂/∂r_ij of Σ_c (x_c,q − x_i,q) E_c to j and takes it from i (the
      // −∂E/∂r_ij ⊗ r_ij part went to j with the forces): the negated forces of that gradient.
      for k in scratch.indices { scratch[k] = 0 }
      scratch.withUnsafeMutableBufferPointer { f in
        for i in 0..<ownedCount where types[i] >= 0 {
          let relative = (0..<width).map { weightedRepinit[i * width + $0] - x[3 * i + q] * repinitGradient[i * width + $0] }
          differentiate(atom: i, gradient: relative[...], slots: slots, positions: x, types: types,
                        paddingType: paddingType, forces: f.baseAddress!, virial: &unused, atomVirials: nil)
        }
      }
      for a in 0..<totalCount { for p in 0..<3 { atomVirials[9 * a + 3 * p + q] -= scratch[3 * a + p] } }
    }
    return result
  }

  /// The repinit (and three-body) descriptors of atom i from its list, into the blocks' buffers.
  private func describe(atom i: Int, slots: [Int32], positions x: UnsafePointer<Double>, types: UnsafePointer<Int32>,
                        paddingType: Int) {
    let listSlots = model.listSelection
    for k in 0..<listSlots { repinit.state.slots[k] = slots[i * listSlots + k] }
    repinit.describe(atom: i, positions: x, types: types, paddingType: paddingType)
    guard let threeBody, let block = model.threeBody else { return }
    // DeePMD-kit's build_multiple_neighbor_list: the first three_body_sel slots, those beyond its rcut as padding.
    for k in 0..<block.slotCount {
      let j = Int(slots[i * listSlots + k])
      var keep = j >= 0
      if keep {
        var r2 = 0.0
        for c in 0..<3 { r2 += (x[3 * j + c] - x[3 * i + c]) * (x[3 * j + c] - x[3 * i + c]) }
        keep = r2.squareRoot() <= block.cutoff
      }
      threeBody.slots[k] = keep ? Int32(j) : -1
    }
    threeBody.describe(atom: i, positions: x, types: types, paddingType: paddingType)
  }

  /// Forces (and virial, per-atom virials) of the repinit blocks from ∂/∂ of atom i's repinit output.
  private func differentiate(atom i: Int, gradient: ArraySlice<Double>, slots: [Int32], positions x: UnsafePointer<Double>,
                             types: UnsafePointer<Int32>, paddingType: Int, forces: UnsafeMutablePointer<Double>,
                             virial: inout InlineArray<9, Double>, atomVirials: UnsafeMutablePointer<Double>?) {
    describe(atom: i, slots: slots, positions: x, types: types, paddingType: paddingType)
    let start = gradient.startIndex, first = model.repinit.descriptorWidth
    for c in 0..<first { repinit.state.descriptorGradient[c] = gradient[start + c] }
    repinit.differentiate(atom: i, types: types, forces: forces, virial: &virial, atomVirials: atomVirials)
    guard let threeBody else { return }
    for c in 0..<threeBody.model.descriptorWidth { threeBody.descriptorGradient[c] = gradient[start + first + c] }
    threeBody.differentiate(atom: i, centreType: Int(types[i]), forces: forces, virial: &virial, atomVirials: atomVirials)
  }
}

/// The backward pass through every repformer layer and the initial features, from ∂/∂ of the final
/// g1 to ∂/∂ of the repformer's geometric inputs and of each owned atom's repinit output; ghosts'
/// g1 gradients reverse-summed after every layer (collective).
private struct Backward {
  let model: RepformerModel
  let graph: RepformerGraph
  let tape: [(g1: [Double], g2: [Double], h2: [Double])]
  /// g1 before the activation (the shape transform's output), rows × g1_dim.
  let shaped: [Double]
  let ownedCount: Int
  let types: UnsafePointer<Int32>
  let rows: Int
  let ghosts: GhostRows
  let edgeCount: Int

  func run(_ finalGradient: [Double]) -> (RepformerGeometryGradient, [Double]) {
    let m = model, ng1 = m.g1Width, ng2 = m.g2Width, width = m.repinitWidth
    var geometry = RepformerGeometryGradient(edges: edgeCount)
    var g1Gradient = finalGradient
    var g2Gradient = [Double](repeating: 0, count: edgeCount * ng2)
    var h2Gradient = [Double](repeating: 0, count: edgeCount * 3)
    for (l, layer) in m.layers.enumerated().reversed() {
      let step = RepformerLayerStep(model: m, layer: layer, h2: tape[l].h2)
      var g1Input = [Double](repeating: 0, count: rows * ng1)
      var g2Input = [Double](repeating: 0, count: edgeCount * ng2)
      geometry.h2 = [Double](repeating: 0, count: edgeCount * 3)
      for i in 0..<ownedCount where types[i] >= 0 {
        step.backward(graph.centre(i, model: m), graph: graph, g1: tape[l].g1, g2: tape[l].g2,
                      g1Gradient: g1Gradient[i * ng1..<(i + 1) * ng1], g2Gradient: g2Gradient, h2Gradient: h2Gradient,
                      g1Input: &g1Input, g2Input: &g2Input, geometry: &geometry)
      }
      h2Gradient = geometry.h2
      // A ghost's g1 was its owner's: its gradient belongs to the owner.
      g1Input.withUnsafeMutableBufferPointer { ghosts.reverse($0.baseAddress!, width: ng1) }
      g1Gradient = g1Input
      g2Gradient = g2Input
    }
    graph.embeddingBackward(model: m, g2Gradient: g2Gradient, geometry: &geometry)
    // The first layer's h2 is the environment rows' last three.
    for e in 0..<edgeCount { for a in 0..<3 { geometry.environment[4 * e + 1 + a] += h2Gradient[3 * e + a] } }
    var repinitGradient = [Double](repeating: 0, count: max(ownedCount, 1) * width)
    for i in 0..<ownedCount where types[i] >= 0 {
      let dz = (0..<ng1).map { c in
        let z = shaped[i * ng1 + c]
        return g1Gradient[i * ng1 + c] * m.activation.derivative(z, output: m.activation.value(z))
      }
      let d = m.shapeTransform.map { affineBackward($0, dz) } ?? dz
      for c in 0..<width { repinitGradient[i * width + c] = d[c] }
    }
    return (geometry, repinitGradient)
  }
}
