/// z_jk = [angle_jk, node_i, edge_ik, edge_ij]·W + b for all angle pairs of one atom, by blocks of
/// W's rows (DeePMD-kit's `optim_angle_update`: the same function as the concatenation): the node
/// and edge blocks once per atom and per angle neighbour, only the angle block per pair. Its
/// backward pass sums ∂E/∂z over pairs first, then applies the node and edge blocks once. With
/// angular compression (`a_compress_rate`) node_i and the edges enter compressed
/// (`RepflowModel.AngleCompression`), and the backward pass maps their gradients back.
struct AngleProjection {
  let layer: DenseLayer
  let compression: RepflowModel.AngleCompression
  /// The angle width and the widths of node_i and of an edge as they enter (compressed or not).
  let angleWidth, nodeWidth, edgeWidth, count: Int
  /// b + node·W_node; per angle neighbour k: edge_ik·W_k; per j: edge_ij·W_j (count × out).
  private(set) var base: [Double]
  private(set) var fromK: [Double], fromJ: [Double]
  /// Σ over pairs of ∂E/∂z (base), per k and per j, gathered by `accumulate`.
  private(set) var gradientBase: [Double], gradientK: [Double], gradientJ: [Double]

  init(_ layer: DenseLayer, model m: RepflowModel, compression: RepflowModel.AngleCompression, node: [Double],
       edges: [Double], firstEdge e0: Int, count: Int) {
    self.layer = layer
    self.compression = compression
    angleWidth = m.angleWidth
    nodeWidth = compression.nodeWidth
    edgeWidth = compression.edgeWidth
    self.count = count
    let n = layer.outputWidth, na = m.angleWidth, nd = nodeWidth, ne = edgeWidth, fullEdge = m.edgeWidth
    let entering = RepflowModel.AngleCompression.apply(compression.node, width: nd, node[...])
    base = layer.bias ?? [Double](repeating: 0, count: n)
    for r in 0..<nd { for o in 0..<n { base[o] += entering[r] * layer.weights[(na + r) * n + o] } }
    fromK = [Double](repeating: 0, count: count * n)
    fromJ = [Double](repeating: 0, count: count * n)
    for e in 0..<count {
      let edge = RepflowModel.AngleCompression.apply(compression.edge, width: ne,
                                                     edges[(e0 + e) * fullEdge..<(e0 + e + 1) * fullEdge])
      for r in 0..<ne {
        let x = edge[r]
        for o in 0..<n {
          fromK[e * n + o] += x * layer.weights[(na + nd + r) * n + o]
          fromJ[e * n + o] += x * layer.weights[(na + nd + ne + r) * n + o]
        }
      }
    }
    gradientBase = [Double](repeating: 0, count: n)
    gradientK = [Double](repeating: 0, count: count * n)
    gradientJ = [Double](repeating: 0, count: count * n)
  }

  /// z of pair (j, k), whose angle feature starts at `angles[angleRow]`.
  func z(_ angles: [Double], angleRow: Int, j: Int, k: Int, into z: inout [Double]) {
    let n = layer.outputWidth, na = angleWidth
    z.withUnsafeMutableBufferPointer { z in
      base.withUnsafeBufferPointer { base in
        fromK.withUnsafeBufferPointer { fromK in
          fromJ.withUnsafeBufferPointer { fromJ in
            for o in 0..<n { z[o] = base[o] + fromK[k * n + o] + fromJ[j * n + o] }
          }
        }
        layer.weights.withUnsafeBufferPointer { w in
          angles.withUnsafeBufferPointer { angles in
            for r in 0..<na {
              let x = angles[angleRow + r], row = w.baseAddress! + r * n
              for o in 0..<n { z[o] += x * row[o] }
            }
          }
        }
      }
    }
  }

  /// Records ∂E/∂z of pair (j, k) and adds ∂E/∂angle_jk = W_angle·∂E/∂z into `angleGradient`.
  mutating func accumulate(_ gz: [Double], j: Int, k: Int, angleGradient: inout [Double], row: Int) {
    let n = layer.outputWidth, na = angleWidth
    gz.withUnsafeBufferPointer { gz in
      for o in 0..<n {
        gradientBase[o] += gz[o]
        gradientK[k * n + o] += gz[o]
        gradientJ[j * n + o] += gz[o]
      }
      layer.weights.withUnsafeBufferPointer { w in
        angleGradient.withUnsafeMutableBufferPointer { angleGradient in
          for r in 0..<na {
            let weights = w.baseAddress! + r * n
            var sum = 0.0
            for o in 0..<n { sum += weights[o] * gz[o] }
            angleGradient[row + r] += sum
          }
        }
      }
    }
  }

  /// Adds the accumulated gradients' share to ∂E/∂node_i and ∂E/∂edge (edges × e_dim of the atom),
  /// through the compression when there is one.
  func distribute(nodeGradient: inout [Double], edgeGradient: inout [Double], edgeWidth fullEdge: Int) {
    let n = layer.outputWidth, na = angleWidth, nd = nodeWidth, ne = edgeWidth
    var g = [Double](repeating: 0, count: nd)
    for r in 0..<nd {
      var sum = 0.0
      for o in 0..<n { sum += layer.weights[(na + r) * n + o] * gradientBase[o] }
      g[r] = sum
    }
    RepflowModel.AngleCompression.backward(compression.node, width: nd, g, into: &nodeGradient, at: 0)
    g = [Double](repeating: 0, count: ne)
    for e in 0..<count {
      for r in 0..<ne {
        var sum = 0.0
        for o in 0..<n {
          sum += layer.weights[(na + nd + r) * n + o] * gradientK[e * n + o]
            + layer.weights[(na + nd + ne + r) * n + o] * gradientJ[e * n + o]
        }
        g[r] = sum
      }
      RepflowModel.AngleCompression.backward(compression.edge, width: ne, g, into: &edgeGradient, at: e * fullEdge)
    }
  }
}
