import Foundation

extension RepflowGraph {
  /// Adds to `geometry` what the initial edge and angle features' gradients give: through the
  /// edge embedding to s (or r) and through the angle embedding to the cosines, then the unit
  /// vectors.
  func embeddingBackward(model m: RepflowModel, edges: [Double], angles: [Double], edgeGradient: [Double],
                         angleGradient: [Double], geometry: inout RepflowGeometryGradient) {
    let ne = m.edgeWidth, na = m.angleWidth, layer = m.edgeEmbedding
    for e in 0..<neighbor.count {
      let input = m.edgeInitUsesDistance ? distance[e] : environment[4 * e]
      var g = 0.0
      for c in 0..<ne {
        let z = input * layer.weights[c] + layer.bias![c]
        let slope = m.edgeInitUsesDistance ? 1 : m.activation.derivative(z, output: m.activation.value(z))
        g += edgeGradient[e * ne + c] * slope * layer.weights[c]
      }
      if m.edgeInitUsesDistance { geometry.distance[e] += g } else { geometry.environment[4 * e] += g }
    }
    for i in 0..<angleCount.count {
      let a = angleCount[i], first = angleNeighborStart[i]
      for j in 0..<a {
        for k in 0..<a {
          let row = (angleStart[i] + j * a + k) * na
          var g = 0.0
          for c in 0..<na { g += angleGradient[row + c] * m.angleEmbedding.weights[c] }
          g *= (1 - 1e-6) / Double.pi.squareRoot()
          for c in 0..<3 {
            geometry.direction[3 * (first + j) + c] += g * direction[3 * (first + k) + c]
            geometry.direction[3 * (first + k) + c] += g * direction[3 * (first + j) + c]
          }
        }
      }
    }
  }

  /// ∂E/∂r_ij of every edge from the geometric gradients, as forces on i (+) and j (−) and the
  /// virial W = −Σ ∂E/∂r_ij ⊗ r_ij (9 components row-major, DeePMD-kit's).
  func forces(model m: RepflowModel, positions x: UnsafePointer<Double>, types: UnsafePointer<Int32>,
              geometry: RepflowGeometryGradient, forces f: UnsafeMutablePointer<Double>,
              virial: inout InlineArray<9, Double>) {
    for i in 0..<angleCount.count {
      for e in edgeStart[i]..<edgeStart[i + 1] {
        let j = neighbor[e], d = separation(x, i, j)
        let gradient = edgeGradient(model: m, edge: e, centre: i, separation: d, types: types, geometry: geometry)
        for p in 0..<3 {
          f[3 * i + p] += gradient[p]
          f[3 * j + p] -= gradient[p]
          for q in 0..<3 { virial[3 * p + q] -= gradient[p] * d[q] }
        }
      }
    }
  }

  /// Per-atom virials as DeePMD-kit's PyTorch models define them (autograd of the extended
  /// system): W_a = −Σ_c ∂E_c/∂x_a ⊗ (x_a − x_c) over the owned centres c, into `atomVirials`
  /// ([totalCount][9], row-major, added into; ghosts' rows belong to their owners). A centre's
  /// energy reaches other centres' edges through the node features, so this needs, besides ∂E/∂
  /// of the geometry (`geometry`), ∂(Σ_c x_c,q E_c)/∂ of it for each axis q (`weighted`): an edge
  /// (i, j) adds ∂/∂r_ij of both, as −(∂E/∂r ⊗ x_j − ∂(Σ x_c E_c)/∂r) to j and the opposite with
  /// x_i to i. Their sum over atoms is the virial.
  func atomVirials(model m: RepflowModel, positions x: UnsafePointer<Double>, types: UnsafePointer<Int32>,
                   geometry: RepflowGeometryGradient, weighted: [RepflowGeometryGradient],
                   into w: UnsafeMutablePointer<Double>) {
    for i in 0..<angleCount.count {
      for e in edgeStart[i]..<edgeStart[i + 1] {
        let j = neighbor[e], d = separation(x, i, j)
        let gradient = edgeGradient(model: m, edge: e, centre: i, separation: d, types: types, geometry: geometry)
        for q in 0..<3 {
          let h = edgeGradient(model: m, edge: e, centre: i, separation: d, types: types, geometry: weighted[q])
          for p in 0..<3 {
            w[9 * j + 3 * p + q] -= gradient[p] * x[3 * j + q] - h[p]
            w[9 * i + 3 * p + q] += gradient[p] * x[3 * i + q] - h[p]
          }
        }
      }
    }
  }

  private func separation(_ x: UnsafePointer<Double>, _ i: Int, _ j: Int) -> SIMD3<Double> {
    SIMD3(x[3 * j] - x[3 * i], x[3 * j + 1] - x[3 * i + 1], x[3 * j + 2] - x[3 * i + 2])
  }

  /// ∂/∂r_ij of edge e (centre i, r_ij = `d`) from the gradients of its geometric inputs.
  private func edgeGradient(model m: RepflowModel, edge e: Int, centre i: Int, separation d: SIMD3<Double>,
                            types: UnsafePointer<Int32>, geometry: RepflowGeometryGradient) -> SIMD3<Double> {
    func switchSlope(_ r: Double, start: Double, cutoff: Double) -> Double {
      if !m.exponentialSwitch { return smoothSwitch(r, smoothingStart: start, cutoff: cutoff).slope }
      if r >= cutoff { return 0 }
      let inner = Foundation.exp(20 / start * (r - start))
      return -Foundation.exp(-inner) * inner * 20 / start
    }
    let ti = Int(types[i]), slot = e - edgeStart[i]
    let r = distance[e], w = edgeSwitch[e]
    let dw = switchSlope(r, start: m.smoothingStart, cutoff: m.cutoff)
    let deviation = (ti * m.selection + slot) * 4
    let radial = geometry.environment[4 * e] / m.deviation[deviation]
    let angular = SIMD3(geometry.environment[4 * e + 1] / m.deviation[deviation + 1],
                        geometry.environment[4 * e + 2] / m.deviation[deviation + 2],
                        geometry.environment[4 * e + 3] / m.deviation[deviation + 3])
    // R_0 = w/r, R_a = w·d_a/r²; the switch also enters directly (geometry.edgeSwitch).
    let throughSwitch: Double = geometry.edgeSwitch[e] * dw + geometry.distance[e]
    let throughRadial: Double = radial * (dw / r - w / (r * r))
    let throughAngular: Double = (angular * d).sum() * (dw / (r * r) - 2 * w / (r * r * r))
    var gradient = d * ((throughSwitch + throughRadial + throughAngular) / r) + angular * (w / (r * r))
    if slot < angleCount[i] {
      let a = angleNeighborStart[i] + slot
      let gu = SIMD3(geometry.direction[3 * a], geometry.direction[3 * a + 1], geometry.direction[3 * a + 2])
      let da = switchSlope(r, start: m.angleSmoothingStart, cutoff: m.angleCutoff)
      // u = d / (r + 1e-6).
      let protected = r + 1e-6
      let radialPart: Double = geometry.angleSwitch[a] * da / r - (gu * d).sum() / (r * protected * protected)
      gradient += d * radialPart + gu / protected
    }
    return gradient
  }
}
