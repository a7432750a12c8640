/// Every owned atom's repformer edges, the list's first sel neighbours within the repformer's rcut
/// (nearest first, so a prefix of the list), with the environment rows and switches DeePMD-kit's
/// `EnvMat` gives them.
struct RepformerGraph {
  /// Edge e of atom i is `edgeStart[i] + e`.
  var edgeStart: [Int] = [0]
  var neighbor: [Int] = []
  /// Per edge: the normalised environment row (s, s·x/r, s·y/r, s·z/r minus davg, over dstd; or
  /// (r, x, y, z)/rcut with direct_dist), whose first entry g2 is embedded from and whose last three
  /// are the first layer's h2; the switch and r.
  var environment: [Double] = [], edgeSwitch: [Double] = [], distance: [Double] = []

  /// A centre without edges (an atom the model ignores).
  mutating func appendCentre() { edgeStart.append(edgeStart[edgeStart.count - 1]) }

  mutating func appendCentre(model m: RepformerModel, atom i: Int, slots: ArraySlice<Int32>,
                             positions x: UnsafePointer<Double>, types: UnsafePointer<Int32>) {
    let ti = Int(types[i])
    var count = 0
    for (slot, index) in slots.prefix(m.selection).enumerated() {
      let j = Int(index)
      if j < 0 { break }
      let d = SIMD3(x[3 * j] - x[3 * i], x[3 * j + 1] - x[3 * i + 1], x[3 * j + 2] - x[3 * i + 2])
      let r = (d * d).sum().squareRoot()
      // DeePMD-kit drops r > rcut from the shorter list; the list is sorted, so the rest are farther.
      if r > m.cutoff { break }
      let w = smoothSwitch(r, smoothingStart: m.smoothingStart, cutoff: m.cutoff).value
      if m.directDistance {
        environment += [r / m.cutoff, d.x / m.cutoff, d.y / m.cutoff, d.z / m.cutoff]
      } else {
        let raw = [w / r, w * d.x / (r * r), w * d.y / (r * r), w * d.z / (r * r)]
        for c in 0..<4 {
          let s = (ti * m.selection + slot) * 4 + c
          environment.append((raw[c] - m.average[s]) / m.deviation[s])
        }
      }
      neighbor.append(j)
      edgeSwitch.append(w)
      distance.append(r)
      count += 1
    }
    edgeStart.append(edgeStart[i] + count)
  }

  func centre(_ i: Int, model m: RepformerModel) -> RepformerLayerStep.Centre {
    let n = edgeStart[i + 1] - edgeStart[i]
    return .init(i: i, e0: edgeStart[i], n: n, padding: m.selection - n, neighbors: neighbor[edgeStart[i]..<edgeStart[i + 1]])
  }

  /// The first layer's h2: the environment rows' last three, edges × 3.
  func initialH2() -> [Double] {
    (0..<neighbor.count).flatMap { e in environment[4 * e + 1..<4 * e + 4] }
  }

  /// act(g2_embd(s)) per edge, edges × g2_dim.
  func initialG2(model m: RepformerModel) -> [Double] {
    let ng2 = m.g2Width, layer = m.g2Embedding
    var out = [Double](repeating: 0, count: neighbor.count * ng2)
    for e in 0..<neighbor.count {
      for c in 0..<ng2 { out[e * ng2 + c] = m.activation.value(environment[4 * e] * layer.weights[c] + layer.bias![c]) }
    }
    return out
  }

  func embeddingBackward(model m: RepformerModel, g2Gradient: [Double], geometry: inout RepformerGeometryGradient) {
    let ng2 = m.g2Width, layer = m.g2Embedding
    for e in 0..<neighbor.count {
      var g = 0.0
      for c in 0..<ng2 {
        let z = environment[4 * e] * layer.weights[c] + layer.bias![c]
        g += g2Gradient[e * ng2 + c] * m.activation.derivative(z, output: m.activation.value(z)) * layer.weights[c]
      }
      geometry.environment[4 * e] += g
    }
  }

  /// ∂E/∂r_ij of every edge as forces on i (+) and j (−) and the virial W = −Σ ∂E/∂r_ij ⊗ r_ij.
  func forces(model m: RepformerModel, positions x: UnsafePointer<Double>, types: UnsafePointer<Int32>,
              geometry: RepformerGeometryGradient, forces f: UnsafeMutablePointer<Double>,
              virial: inout InlineArray<9, Double>) {
    for i in 0..<edgeStart.count - 1 {
      for e in edgeStart[i]..<edgeStart[i + 1] {
        let j = neighbor[e], d = separation(x, i, j)
        let g = edgeGradient(model: m, edge: e, centre: i, separation: d, types: types, geometry: geometry)
        for p in 0..<3 {
          f[3 * i + p] += g[p]
          f[3 * j + p] -= g[p]
          for q in 0..<3 { virial[3 * p + q] -= g[p] * d[q] }
        }
      }
    }
  }

  /// Column q of the per-atom virials of the repformer's edges, as `RepflowGraph.atomVirials`
  /// defines them: with h = ∂(Σ_c x_c,q E_c)/∂r_ij (`weighted`), −(g x_j,q − h) to j and
  /// (g x_i,q − h) to i.
  func atomVirials(model m: RepformerModel, axis q: Int, positions x: UnsafePointer<Double>,
                   types: UnsafePointer<Int32>, geometry: RepformerGeometryGradient,
                   weighted: RepformerGeometryGradient, into w: UnsafeMutablePointer<Double>) {
    for i in 0..<edgeStart.count - 1 {
      for e in edgeStart[i]..<edgeStart[i + 1] {
        let j = neighbor[e], d = separation(x, i, j)
        let g = edgeGradient(model: m, edge: e, centre: i, separation: d, types: types, geometry: geometry)
        let h = edgeGradient(model: m, edge: e, centre: i, separation: d, types: types, geometry: weighted)
        for p in 0..<3 {
          w[9 * j + 3 * p + q] -= g[p] * x[3 * j + q] - h[p]
          w[9 * i + 3 * p + q] += g[p] * x[3 * i + q] - h[p]
        }
      }
    }
  }

  private func separation(_ x: UnsafePointer<Double>, _ i: Int, _ j: Int) -> SIMD3<Double> {
    SIMD3(x[3 * j] - x[3 * i], x[3 * j + 1] - x[3 * i + 1], x[3 * j + 2] - x[3 * i + 2])
  }

  /// ∂/∂r_ij of edge e through R_0 = w/r, R_a = w·d_a/r² and the switch's own uses.
  private func edgeGradient(model m: RepformerModel, edge e: Int, centre i: Int, separation d: SIMD3<Double>,
                            types: UnsafePointer<Int32>, geometry: RepformerGeometryGradient) -> SIMD3<Double> {
    let ti = Int(types[i]), slot = e - edgeStart[i]
    let r = distance[e], w = edgeSwitch[e]
    let dw = smoothSwitch(r, smoothingStart: m.smoothingStart, cutoff: m.cutoff).slope
    if m.directDistance {
      // rows (r, x, y, z) / rcut; the switch as always.
      let angular = SIMD3(geometry.environment[4 * e + 1], geometry.environment[4 * e + 2], geometry.environment[4 * e + 3])
      let along: Double = geometry.edgeSwitch[e] * dw + geometry.environment[4 * e] / m.cutoff
      return d * (along / r) + angular / m.cutoff
    }
    let s = (ti * m.selection + slot) * 4
    let radial = geometry.environment[4 * e] / m.deviation[s]
    let angular = SIMD3(geometry.environment[4 * e + 1] / m.deviation[s + 1],
                        geometry.environment[4 * e + 2] / m.deviation[s + 2],
                        geometry.environment[4 * e + 3] / m.deviation[s + 3])
    let through: Double = geometry.edgeSwitch[e] * dw + radial * (dw / r - w / (r * r))
      + (angular * d).sum() * (dw / (r * r) - 2 * w / (r * r * r))
    return d * (through / r) + angular * (w / (r * r))
  }
}
