/// Working memory of the repflow layers, allocated once per evaluator and reused by every atom,
/// layer and step, so that a timestep allocates nothing in the layers: per-atom blocks sized for
/// the largest atom (e_sel edges, a_sel angle neighbours), and per-row blocks (owned atoms and
/// ghosts) that grow only when a step has more rows than any before.
final class RepflowScratch {
  let edgeCapacity, pairCapacity: Int
  /// Per edge of the atom: the node–edge and edge-self maps' pre-activations (then values) and
  /// slopes, the edge–angle message and its map's values and slopes, ∂E/∂ of the input edges and
  /// the edge updates' upstream gradients (own, self, angle).
  let nodeEdge, nodeEdgeSlope, edgeSelf, edgeSelfSlope: UnsafeMutablePointer<Double>
  let angleMessage, edgeAngle, edgeAngleSlope, edgeGradient, edgeOwnGradient: UnsafeMutablePointer<Double>
  let edgeSelfGradient, edgeAngleGradient: UnsafeMutablePointer<Double>
  /// Per angle pair: the two angle maps' values and slopes.
  let pairEdge, pairEdgeSlope, pairAngle, pairAngleSlope: UnsafeMutablePointer<Double>
  /// Per angle neighbour: the reduced angle message and its gradient (a_sel × e_dim).
  let reduced, reducedGradient: UnsafeMutablePointer<Double>
  /// Per atom vectors: node-level values and gradients (sized for the widest of them).
  let vectors: [UnsafeMutablePointer<Double>]
  let toEdge, toAngle: AngleProjection
  /// Per row: node_j's shares of the node–edge and edge-self maps, and the gradients gathered
  /// onto each row through them in the backward pass.
  private(set) var neighborNodeEdge, neighborEdgeSelf: UnsafeMutablePointer<Double>
  private(set) var neighborNodeEdgeGradient, neighborEdgeSelfGradient: UnsafeMutablePointer<Double>
  private(set) var rowCapacity = 0
  private let nodeEdgeWidth, edgeSelfWidth: Int

  init(model m: RepflowModel) {
    let nd = m.nodeWidth, ne = m.edgeWidth, na = m.angleWidth
    edgeCapacity = max(m.selection, 1)
    pairCapacity = max(m.angleSelection * m.angleSelection, 1)
    nodeEdgeWidth = nd
    edgeSelfWidth = ne
    let s = edgeCapacity, p = pairCapacity
    nodeEdge = zeroedBuffer(s * nd); nodeEdgeSlope = zeroedBuffer(s * nd)
    edgeSelf = zeroedBuffer(s * ne); edgeSelfSlope = zeroedBuffer(s * ne)
    angleMessage = zeroedBuffer(s * ne); edgeAngle = zeroedBuffer(s * ne); edgeAngleSlope = zeroedBuffer(s * ne)
    edgeGradient = zeroedBuffer(s * ne); edgeOwnGradient = zeroedBuffer(s * ne)
    edgeSelfGradient = zeroedBuffer(s * ne); edgeAngleGradient = zeroedBuffer(s * ne)
    pairEdge = zeroedBuffer(p * ne); pairEdgeSlope = zeroedBuffer(p * ne)
    pairAngle = zeroedBuffer(p * na); pairAngleSlope = zeroedBuffer(p * na)
    reduced = zeroedBuffer(max(m.angleSelection, 1) * ne); reducedGradient = zeroedBuffer(max(m.angleSelection, 1) * ne)
    let wide = max(nd, ne, m.axisCount * (nd + ne)) * 3
    vectors = (0..<12).map { _ in zeroedBuffer(wide) }
    toEdge = AngleProjection(model: m)
    toAngle = AngleProjection(model: m)
    neighborNodeEdge = zeroedBuffer(1); neighborEdgeSelf = zeroedBuffer(1)
    neighborNodeEdgeGradient = zeroedBuffer(1); neighborEdgeSelfGradient = zeroedBuffer(1)
  }

  deinit {
    for p in [nodeEdge, nodeEdgeSlope, edgeSelf, edgeSelfSlope, angleMessage, edgeAngle, edgeAngleSlope, edgeGradient,
              edgeOwnGradient, edgeSelfGradient, edgeAngleGradient, pairEdge, pairEdgeSlope, pairAngle, pairAngleSlope,
              reduced, reducedGradient, neighborNodeEdge, neighborEdgeSelf, neighborNodeEdgeGradient,
              neighborEdgeSelfGradient] + vectors { p.deallocate() }
  }

  /// Room for `rows` rows in the per-row blocks (contents not kept when they grow).
  func reserve(rows: Int) {
    guard rows > rowCapacity else { return }
    for p in [neighborNodeEdge, neighborEdgeSelf, neighborNodeEdgeGradient, neighborEdgeSelfGradient] { p.deallocate() }
    rowCapacity = max(rows, rowCapacity * 5 / 4)
    neighborNodeEdge = zeroedBuffer(rowCapacity * nodeEdgeWidth)
    neighborEdgeSelf = zeroedBuffer(rowCapacity * edgeSelfWidth)
    neighborNodeEdgeGradient = zeroedBuffer(rowCapacity * nodeEdgeWidth)
    neighborEdgeSelfGradient = zeroedBuffer(rowCapacity * edgeSelfWidth)
  }
}
