import Atoms
import Foundation

/// Energies, forces and virial of a DPA-3 model (`RepflowModel`) on one rank's atoms, owned atoms first, then ghosts,
/// with a full neighbour list of the owned atoms (the contract of `DeepPotentialEvaluator.compute`).
///
/// Float64, atom by atom (each atom's edges and angle pairs through BLAS at once, see
/// `RepflowLayerStep`), following DeePMD-kit's NumPy descriptor
/// (`deepmd/dpmodel/descriptor/repflows.py`, parallel update mode, fixed `sel`): edges and
/// angles belong to their owned centre and never cross ranks; node features do. Owned atoms'
/// node features are computed, then forwarded to every ghost through the `GhostRows` handle before
/// each layer reads them, so an atom L layers away is seen through its ghost's refreshed
/// features and a ghost shell of one cut-off suffices however deep the network. On one rank the
/// periodic images are the ghosts; on P ranks the same forwarding makes the result equal.
///
/// Padding slots never reach the energy (every path from them is weighted by a zero switch or
/// masked), so only real edges and angle pairs are held.
public final class RepflowEvaluator {
  public let model: RepflowModel
  let selection: NeighborSelection
  /// One per type (the same network for every type when the fitting has mixed types).
  private let fittings: [NetworkTape]
  private let slots: UnsafeMutablePointer<Int32>
  private let scratch: RepflowScratch

  public init(model: RepflowModel) {
    self.model = model
    selection = NeighborSelection(model: model)
    fittings = model.fittings.map { NetworkTape($0, capacity: 1) }
    slots = zeroedBuffer(model.selection)
    scratch = RepflowScratch(model: model)
    steps = model.layers.map { RepflowLayerStep(model: model, layer: $0) }
    fittingGradient = zeroedBuffer(model.descriptorWidth)
    tape = Array(repeating: Tape(), count: model.layerCount)
  }

  deinit {
    slots.deallocate()
    fittingGradient.deallocate()
  }

  /// Writes the owned atoms' energies into `atomEnergies` and returns their sum; with `forces`
  /// ([totalCount][3], added into, ghosts included: the caller folds them onto their owners) also
  /// the forces and the virial, by the backward pass, and with `atomVirials` ([totalCount][9],
  /// added into, ghosts included: folded onto their owners by the caller) DeePMD-kit's per-atom
  /// virials, by three more backward passes (every rank passes `atomVirials` alike). `ghosts` forwards rows of the node width
  /// over the ghosts before every layer and, with forces, reverse-sums their gradients after every
  /// layer's backward pass (collective: every rank calls it alike). A negative type is an atom the
  /// model ignores. Energies and forces allocate nothing once the buffers have grown to the
  /// largest step (per-atom virials do).
  public func compute(positions: UnsafePointer<Double>, types: UnsafePointer<Int32>, ownedCount: Int,
                      totalCount: Int, neighborOffsets: UnsafePointer<Int32>, neighbors: UnsafePointer<Int32>,
                      ghosts: GhostRows, atomEnergies: UnsafeMutablePointer<Double>,
                      forces: UnsafeMutablePointer<Double>? = nil,
                      atomVirials: UnsafeMutablePointer<Double>? = nil) -> DeepPotentialResult {
    var result = DeepPotentialResult()
    graph.rebuild(model: model, selection: selection, slots: slots, positions: positions, types: types,
                  ownedCount: ownedCount, neighborOffsets: neighborOffsets, neighbors: neighbors)
    result.overflowAtoms = graph.overflowAtoms
    let m = model, nd = m.nodeWidth
    // At least one row, so that a rank without atoms still has buffers to join the exchanges with.
    let rows = max(totalCount, 1)
    let edgeCount = graph.neighbor.count * m.edgeWidth, angleCount = graph.angleStart.last! * m.angleWidth
    fit(&nodes, rows * nd)
    fit(&next, rows * nd)
    for i in 0..<ownedCount where types[i] >= 0 {
      for c in 0..<nd { nodes[i * nd + c] = m.activation.value(m.typeEmbedding[Int(types[i]) * nd + c]) }
    }
    fit(&edges, edgeCount)
    fit(&angles, angleCount)
    graph.initialEdges(model: m, into: &edges)
    graph.initialAngles(model: m, into: &angles)
    if forces != nil {
      fit(&initialEdges, edgeCount)
      fit(&initialAngles, angleCount)
      copy(edges, into: &initialEdges, edgeCount)
      copy(angles, into: &initialAngles, angleCount)
    }
    scratch.reserve(rows: rows)
    for (l, step) in steps.enumerated() {
      nodes.withUnsafeMutableBufferPointer { ghosts.forward($0.baseAddress!, width: nd) }
      if forces != nil {
        // Each layer's inputs, kept for the backward pass.
        fit(&tape[l].nodes, rows * nd)
        fit(&tape[l].edges, edgeCount)
        fit(&tape[l].angles, angleCount)
        copy(nodes, into: &tape[l].nodes, rows * nd)
        copy(edges, into: &tape[l].edges, edgeCount)
        copy(angles, into: &tape[l].angles, angleCount)
      }
      nodes.withUnsafeBufferPointer { nodes in
        next.withUnsafeMutableBufferPointer { next in
          edges.withUnsafeMutableBufferPointer { edges in
            angles.withUnsafeMutableBufferPointer { angles in
              step.neighborShares(nodes: nodes.baseAddress!, rows: rows, scratch: scratch)
              for i in 0..<ownedCount where types[i] >= 0 {
                step.update(atom: i, graph: graph, nodes: nodes.baseAddress!, next: next.baseAddress!,
                            edges: edges.baseAddress!, angles: angles.baseAddress!, scratch: scratch)
              }
            }
          }
        }
      }
      swap(&nodes, &next)
    }
    if forces != nil { fit(&finalGradient, rows * nd) }
    var one = 1.0
    for i in 0..<ownedCount {
      guard types[i] >= 0 else { atomEnergies[i] = 0; continue }
      let t = Int(types[i]), fitting = fittings[t]
      for c in 0..<nd { fitting.input[c] = nodes[i * nd + c] }
      if m.appendsTypeEmbedding { for c in 0..<nd { fitting.input[nd + c] = m.typeEmbedding[t * nd + c] } }
      fitting.forward(rows: 1)
      let energy = ((fitting.output[0] - m.vacuumEnergy[t]) + m.fittingBias[t]) + m.outputBias[t]
      atomEnergies[i] = energy
      result.energy += energy
      if forces != nil {
        fitting.backward(&one, into: fittingGradient)
        for c in 0..<nd { finalGradient[i * nd + c] = fittingGradient[c] }
      }
    }
    guard let forces else { return result }
    geometryGradient(seed: finalGradient, into: &geometry, edgeCount: edgeCount, angleCount: angleCount,
                     ownedCount: ownedCount, types: types, rows: rows, ghosts: ghosts)
    graph.forces(model: m, positions: positions, types: types, geometry: geometry, forces: forces,
                 virial: &result.virial)
    if let atomVirials {
      // ∂(Σ_i x_i,q E_i)/∂: the fitting's gradients weighted by the centre's coordinate.
      let weighted = (0..<3).map { q in
        var seed = finalGradient
        for i in 0..<ownedCount { for c in 0..<nd { seed[i * nd + c] *= positions[3 * i + q] } }
        var out = RepflowGeometryGradient()
        geometryGradient(seed: seed, into: &out, edgeCount: edgeCount, angleCount: angleCount, ownedCount: ownedCount,
                         types: types, rows: rows, ghosts: ghosts)
        return out
      }
      graph.atomVirials(model: m, positions: positions, types: types, geometry: geometry, weighted: weighted,
                        into: atomVirials)
    }
    return result
  }

  // Buffers kept across steps (grown, never shrunk): the graph, the features, each layer's
  // inputs (the tape), and the backward pass's gradients.
  private var graph = RepflowGraph()
  private let steps: [RepflowLayerStep]
  private let fittingGradient: UnsafeMutablePointer<Double>
  private var nodes: [Double] = [], next: [Double] = [], edges: [Double] = [], angles: [Double] = []
  private var initialEdges: [Double] = [], initialAngles: [Double] = []
  private struct Tape { var nodes: [Double] = [], edges: [Double] = [], angles: [Double] = [] }
  private var tape: [Tape]
  private var finalGradient: [Double] = [], nodeGradient: [Double] = [], inputGradient: [Double] = []
  private var edgeGradient: [Double] = [], angleGradient: [Double] = []
  private var geometry = RepflowGeometryGradient()

  /// The backward pass through every layer and the embeddings, from ∂/∂ of the final node
  /// features (`seed`) to ∂/∂ of the geometric inputs; ghosts' feature gradients reverse-summed
  /// after every layer (collective).
  private func geometryGradient(seed: [Double], into geometry: inout RepflowGeometryGradient, edgeCount: Int,
                                angleCount: Int, ownedCount: Int, types: UnsafePointer<Int32>, rows: Int,
                                ghosts: GhostRows) {
    let nd = model.nodeWidth
    geometry.reset(graph: graph)
    fit(&nodeGradient, rows * nd)
    fit(&inputGradient, rows * nd)
    fit(&edgeGradient, edgeCount)
    fit(&angleGradient, angleCount)
    copy(seed, into: &nodeGradient, rows * nd)
    for (l, step) in steps.enumerated().reversed() {
      fit(&inputGradient, rows * nd)
      tape[l].nodes.withUnsafeBufferPointer { nodes in
        tape[l].edges.withUnsafeBufferPointer { edges in
          tape[l].angles.withUnsafeBufferPointer { angles in
            nodeGradient.withUnsafeBufferPointer { gOut in
              edgeGradient.withUnsafeMutableBufferPointer { gEdges in
                angleGradient.withUnsafeMutableBufferPointer { gAngles in
                  inputGradient.withUnsafeMutableBufferPointer { gIn in
                    step.neighborShares(nodes: nodes.baseAddress!, rows: rows, scratch: scratch)
                    step.clearNeighborGradients(rows: rows, scratch: scratch)
                    for i in 0..<ownedCount where types[i] >= 0 {
                      step.backward(atom: i, graph: graph, nodes: nodes.baseAddress!, edges: edges.baseAddress!,
                                    angles: angles.baseAddress!, nodeGradient: gOut.baseAddress! + i * nd,
                                    edgeGradient: gEdges.baseAddress!, angleGradient: gAngles.baseAddress!,
                                    nodeInputGradient: gIn.baseAddress!, geometry: &geometry, scratch: scratch)
                    }
                    step.neighborGradients(rows: rows, scratch: scratch, into: gIn.baseAddress!)
                  }
                }
              }
            }
          }
        }
      }
      // A ghost's feature was its owner's: its gradient belongs to the owner.
      inputGradient.withUnsafeMutableBufferPointer { ghosts.reverse($0.baseAddress!, width: nd) }
      swap(&nodeGradient, &inputGradient)
    }
    graph.embeddingBackward(model: model, edges: initialEdges, angles: initialAngles, edgeGradient: edgeGradient,
                            angleGradient: angleGradient, geometry: &geometry)
  }
}

/// Makes `a` hold at least `count` values with the first `count` zero, reallocating only to grow.
func fit(_ a: inout [Double], _ count: Int) {
  if a.count < count { a = [Double](repeating: 0, count: count); return }
  a.withUnsafeMutableBufferPointer { $0.baseAddress?.update(repeating: 0, count: count) }
}

/// The first `count` values of `source` into `target` (which holds at least as many).
private func copy(_ source: [Double], into target: inout [Double], _ count: Int) {
  source.withUnsafeBufferPointer { s in
    target.withUnsafeMutableBufferPointer { t in
      if count > 0 { t.baseAddress!.update(from: s.baseAddress!, count: count) }
    }
  }
}

/// Every owned atom's edges (its nearest e_sel neighbours within e_rcut, nearest first) and angle
/// neighbours (the prefix of those edges closer than a_rcut, at most a_sel), with the geometric
/// inputs DeePMD-kit's environment matrices give them.
struct RepflowGraph {
  /// Edge e of atom i is `edgeStart[i] + e`; its angle neighbours are its first `angleCount[i]`
  /// edges, and its angle pairs start at `angleStart[i]` (angleCount² of them, j-major).
  var edgeStart: [Int] = [0], angleCount: [Int] = [], angleStart: [Int] = [0]
  /// Atom i's first angle neighbour in `angleSwitch` (rows of 1) and `direction` (rows of 3).
  var angleNeighborStart: [Int] = [0]
  var neighbor: [Int] = []
  /// Per edge: the switch, the normalised environment row (s, s·x/r, s·y/r, s·z/r minus davg, over
  /// dstd) and r; per angle neighbour the a_rcut switch and the unit vector (as DeePMD-kit
  /// protects it, d / (|d| + 1e-6)).
  var edgeSwitch: [Double] = [], environment: [Double] = [], distance: [Double] = []
  var angleSwitch: [Double] = [], direction: [Double] = []
  var overflowAtoms = 0

  /// Rebuilt every evaluation, in place: the arrays keep their capacity across steps.
  mutating func rebuild(model m: RepflowModel, selection: NeighborSelection, slots: UnsafeMutablePointer<Int32>,
                        positions x: UnsafePointer<Double>, types: UnsafePointer<Int32>, ownedCount: Int,
                        neighborOffsets: UnsafePointer<Int32>, neighbors: UnsafePointer<Int32>) {
    edgeStart.removeAll(keepingCapacity: true); edgeStart.append(0)
    angleStart.removeAll(keepingCapacity: true); angleStart.append(0)
    angleNeighborStart.removeAll(keepingCapacity: true); angleNeighborStart.append(0)
    angleCount.removeAll(keepingCapacity: true)
    neighbor.removeAll(keepingCapacity: true)
    edgeSwitch.removeAll(keepingCapacity: true)
    environment.removeAll(keepingCapacity: true)
    distance.removeAll(keepingCapacity: true)
    angleSwitch.removeAll(keepingCapacity: true)
    direction.removeAll(keepingCapacity: true)
    overflowAtoms = 0
    func switchValue(_ r: Double, start: Double, cutoff: Double) -> Double {
      if !m.exponentialSwitch { return smoothSwitch(r, smoothingStart: start, cutoff: cutoff).value }
      // DeePMD-kit's compute_exp_sw: r clipped to [0, r_c].
      return Foundation.exp(-Foundation.exp(20 / start * (min(r, cutoff) - start)))
    }
    for i in 0..<ownedCount {
      var count = 0, angles = 0
      if types[i] >= 0 {
        let list = UnsafeBufferPointer(start: neighbors + Int(neighborOffsets[i]),
                                       count: Int(neighborOffsets[i + 1] - neighborOffsets[i]))
        if selection.select(centre: i, positions: x, types: types, neighbors: list, slots: slots) { overflowAtoms += 1 }
        let ti = Int(types[i])
        for slot in 0..<m.selection {
          let j = Int(slots[slot])
          if j < 0 { break }
          let d = SIMD3(x[3 * j] - x[3 * i], x[3 * j + 1] - x[3 * i + 1], x[3 * j + 2] - x[3 * i + 2])
          let r = (d * d).sum().squareRoot()
          let w = switchValue(r, start: m.smoothingStart, cutoff: m.cutoff)
          let raw = SIMD4(w / r, w * d.x / (r * r), w * d.y / (r * r), w * d.z / (r * r))
          for c in 0..<4 {
            let s = (ti * m.selection + slot) * 4 + c
            environment.append((raw[c] - m.average[s]) / m.deviation[s])
          }
          neighbor.append(j)
          edgeSwitch.append(w)
          distance.append(r)
          if slot == angles, slot < m.angleSelection, r < m.angleCutoff {
            angles += 1
            angleSwitch.append(switchValue(r, start: m.angleSmoothingStart, cutoff: m.angleCutoff))
            let u = d / (r + 1e-6)
            direction.append(u.x)
            direction.append(u.y)
            direction.append(u.z)
          }
          count += 1
        }
      }
      edgeStart.append(edgeStart[i] + count)
      angleCount.append(angles)
      angleStart.append(angleStart[i] + angles * angles)
      angleNeighborStart.append(angleNeighborStart[i] + angles)
    }
  }

  /// act(edge_embd(s)) (or edge_embd(r) with edge_init_use_dist), edges × e_dim, into `out`.
  func initialEdges(model m: RepflowModel, into out: inout [Double]) {
    let ne = m.edgeWidth, layer = m.edgeEmbedding
    for e in 0..<neighbor.count {
      let input = m.edgeInitUsesDistance ? distance[e] : environment[4 * e]
      for c in 0..<ne {
        let z = input * layer.weights[c] + layer.bias![c]
        out[e * ne + c] = m.edgeInitUsesDistance ? z : m.activation.value(z)
      }
    }
  }

  /// angle_embd(cos θ_jk (1 − 1e-6) / √π) for every pair of angle neighbours, pairs × a_dim, into `out`.
  func initialAngles(model m: RepflowModel, into out: inout [Double]) {
    let na = m.angleWidth
    for i in 0..<angleCount.count {
      let a = angleCount[i], firstDirection = angleNeighborStart[i]
      for j in 0..<a {
        for k in 0..<a {
          var cosine = 0.0
          for c in 0..<3 { cosine += direction[3 * (firstDirection + j) + c] * direction[3 * (firstDirection + k) + c] }
          let input = cosine * (1 - 1e-6) / Double.pi.squareRoot()
          let row = (angleStart[i] + j * a + k) * na
          for c in 0..<na { out[row + c] = input * m.angleEmbedding.weights[c] }
        }
      }
    }
  }
}
