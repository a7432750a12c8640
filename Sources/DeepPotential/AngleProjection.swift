/// z_jk = [angle_jk, node_i, edge_ik, edge_ij]·W + b for all angle pairs of one atom, by blocks of
/// W's rows (DeePMD-kit's `optim_angle_update`: the same function as the concatenation): the node
/// and edge blocks once per atom and per angle neighbour, the angle block for all pairs in one
/// product. Its backward pass sums ∂E/∂z over pairs first, then applies the node and edge blocks
/// once. With angular compression (`a_compress_rate`) node_i and the edges enter compressed
/// (`RepflowModel.AngleCompression`), and the backward pass maps their gradients back.
///
/// Working memory for the largest atom (a_sel angle neighbours), allocated once and reused by
/// every atom and layer (`prepare` binds it to a layer and an atom).
final class AngleProjection {
  private let angleWidth, fullEdgeWidth, capacity: Int
  private var layer: DenseLayer!
  private var compression: RepflowModel.AngleCompression!
  private var count = 0
  /// b + node·W_node; per angle neighbour k: edge_ik·W_k; per j: edge_ij·W_j (count × out).
  private let base, fromK, fromJ: UnsafeMutablePointer<Double>
  /// Σ over pairs of ∂E/∂z (base), per k and per j, gathered by `accumulate`.
  private let gradientBase, gradientK, gradientJ: UnsafeMutablePointer<Double>
  /// The compressed node and edges (when compressed by maps), and their gradients.
  private let enteringNode, enteringEdges, nodeGradient, edgeGradients: UnsafeMutablePointer<Double>

  init(model m: RepflowModel) {
    angleWidth = m.angleWidth
    fullEdgeWidth = m.edgeWidth
    capacity = m.angleSelection
    let out = max(m.edgeWidth, m.angleWidth), wide = max(m.nodeWidth, m.edgeWidth)
    base = zeroedBuffer(out)
    fromK = zeroedBuffer(capacity * out)
    fromJ = zeroedBuffer(capacity * out)
    gradientBase = zeroedBuffer(out)
    gradientK = zeroedBuffer(capacity * out)
    gradientJ = zeroedBuffer(capacity * out)
    enteringNode = zeroedBuffer(wide)
    enteringEdges = zeroedBuffer(capacity * wide)
    nodeGradient = zeroedBuffer(wide)
    edgeGradients = zeroedBuffer(capacity * wide)
  }

  deinit {
    for p in [base, fromK, fromJ, gradientBase, gradientK, gradientJ, enteringNode, enteringEdges, nodeGradient,
              edgeGradients] { p.deallocate() }
  }

  private var nodeWidth: Int { compression.nodeWidth }
  private var edgeWidth: Int { compression.edgeWidth }

  /// Binds the projection to `layer` and to one atom's node and its first `count` edges (rows of
  /// e_dim), computing the node and edge blocks' shares; clears the gradient sums.
  func prepare(_ layer: DenseLayer, compression: RepflowModel.AngleCompression, node: UnsafePointer<Double>,
               edges: UnsafePointer<Double>, count: Int) {
    self.layer = layer
    self.compression = compression
    self.count = count
    let n = layer.outputWidth, na = angleWidth, nd = nodeWidth, ne = edgeWidth
    layer.weights.withUnsafeBufferPointer { w in
      let w = w.baseAddress!
      // node_i as it enters, then its block.
      var input = node
      if let map = compression.node {
        map.weights.withUnsafeBufferPointer {
          gemm(node, map.inputWidth, $0.baseAddress!, nd, enteringNode, nd, m: 1, n: nd, k: map.inputWidth)
        }
        input = UnsafePointer(enteringNode)
      }
      if let bias = layer.bias { for o in 0..<n { base[o] = bias[o] } } else { base.update(repeating: 0, count: n) }
      gemm(input, nd, w + na * n, n, base, n, m: 1, n: n, k: nd, beta: 1)
      guard count > 0 else { return }
      // The edges as they enter: their first components in place (split), or mapped.
      var rows = edges, stride = fullEdgeWidth
      if let map = compression.edge {
        map.weights.withUnsafeBufferPointer {
          gemm(edges, fullEdgeWidth, $0.baseAddress!, ne, enteringEdges, ne, m: count, n: ne, k: fullEdgeWidth)
        }
        rows = UnsafePointer(enteringEdges)
        stride = ne
      }
      gemm(rows, stride, w + (na + nd) * n, n, fromK, n, m: count, n: n, k: ne)
      gemm(rows, stride, w + (na + nd + ne) * n, n, fromJ, n, m: count, n: n, k: ne)
    }
    gradientBase.update(repeating: 0, count: n)
    gradientK.update(repeating: 0, count: max(count, 1) * n)
    gradientJ.update(repeating: 0, count: max(count, 1) * n)
  }

  /// z of every pair (count² rows, j-major), from the atom's angle features (count² rows of a_dim).
  func z(_ angles: UnsafePointer<Double>, into z: UnsafeMutablePointer<Double>) {
    let n = layer.outputWidth
    layer.weights.withUnsafeBufferPointer {
      gemm(angles, angleWidth, $0.baseAddress!, n, z, n, m: count * count, n: n, k: angleWidth)
    }
    for j in 0..<count {
      for k in 0..<count {
        let row = z + (j * count + k) * n, fk = fromK + k * n, fj = fromJ + j * n
        for o in 0..<n { row[o] += base[o] + fk[o] + fj[o] }
      }
    }
  }

  /// Records ∂E/∂z of every pair (count² rows) and adds ∂E/∂angle = ∂E/∂z·W_angleᵀ into
  /// `angleGradient` (the atom's count² rows of a_dim).
  func accumulate(_ gz: UnsafePointer<Double>, angleGradient: UnsafeMutablePointer<Double>) {
    let n = layer.outputWidth
    for j in 0..<count {
      for k in 0..<count {
        let row = gz + (j * count + k) * n, gk = gradientK + k * n, gj = gradientJ + j * n
        for o in 0..<n {
          gradientBase[o] += row[o]
          gk[o] += row[o]
          gj[o] += row[o]
        }
      }
    }
    layer.weights.withUnsafeBufferPointer {
      gemm(gz, n, $0.baseAddress!, n, angleGradient, angleWidth, m: count * count, n: angleWidth, k: n,
           transposeB: true, beta: 1)
    }
  }

  /// Adds the accumulated gradients' share to ∂E/∂node_i (n_dim) and ∂E/∂edge (the atom's rows of
  /// e_dim), through the compression when there is one.
  func distribute(nodeGradient gNode: UnsafeMutablePointer<Double>, edgeGradient gEdges: UnsafeMutablePointer<Double>) {
    let n = layer.outputWidth, na = angleWidth, nd = nodeWidth, ne = edgeWidth
    layer.weights.withUnsafeBufferPointer { w in
      let w = w.baseAddress!
      if let map = compression.node {
        gemm(gradientBase, n, w + na * n, n, nodeGradient, nd, m: 1, n: nd, k: n, transposeB: true)
        map.weights.withUnsafeBufferPointer {
          gemm(nodeGradient, nd, $0.baseAddress!, nd, gNode, map.inputWidth, m: 1, n: map.inputWidth, k: nd,
               transposeB: true, beta: 1)
        }
      } else {
        gemm(gradientBase, n, w + na * n, n, gNode, nd, m: 1, n: nd, k: n, transposeB: true, beta: 1)
      }
      guard count > 0 else { return }
      if let map = compression.edge {
        gemm(gradientK, n, w + (na + nd) * n, n, edgeGradients, ne, m: count, n: ne, k: n, transposeB: true)
        gemm(gradientJ, n, w + (na + nd + ne) * n, n, edgeGradients, ne, m: count, n: ne, k: n, transposeB: true,
             beta: 1)
        map.weights.withUnsafeBufferPointer {
          gemm(edgeGradients, ne, $0.baseAddress!, ne, gEdges, fullEdgeWidth, m: count, n: fullEdgeWidth, k: ne,
               transposeB: true, beta: 1)
        }
      } else {
        // The split keeps the first components: their gradients land there.
        gemm(gradientK, n, w + (na + nd) * n, n, gEdges, fullEdgeWidth, m: count, n: ne, k: n, transposeB: true,
             beta: 1)
        gemm(gradientJ, n, w + (na + nd + ne) * n, n, gEdges, fullEdgeWidth, m: count, n: ne, k: n,
             transposeB: true, beta: 1)
      }
    }
  }
}

/// C = op(A)·op(B) + beta·C, row-major with leading dimensions (A m×k, B k×n, or n×k transposed).
@inline(__always)
func gemm(_ a: UnsafePointer<Double>, _ lda: Int, _ b: UnsafePointer<Double>, _ ldb: Int,
          _ c: UnsafeMutablePointer<Double>, _ ldc: Int, m: Int, n: Int, k: Int, transposeA: Bool = false,
          transposeB: Bool = false, beta: Double = 0) {
  if m == 0 || n == 0 { return }
  if k == 0 {
    if beta == 0 { for r in 0..<m { (c + r * ldc).update(repeating: 0, count: n) } }
    return
  }
  Double.gemm(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, a, lda: lda, b, ldb: ldb, beta: beta,
              c, ldc: ldc)
}
