extension DeepPotentialEvaluator {
  /// From an atom's slots (`slots`) to its descriptor: the active slots' normalised rows R̂, their
  /// embeddings G and dG/ds, the contraction T = R̂ᵀG/nnei over all slots (padding included) and
  /// D = Tᵀ T_<.
  func describe(atom i: Int, at b: Int, positions x: UnsafePointer<Double>, types: UnsafePointer<Int32>) {
    let ti = Int(types[i])
    let first = b * slotCount
    let xi = SIMD3(x[3 * i], x[3 * i + 1], x[3 * i + 2])
    var active = 0
    let bounds = block.sectionBounds + b * (model.typeCount + 1)
    var section = 0
    bounds[0] = 0
    model.average.withUnsafeBufferPointer { average in
      model.deviation.withUnsafeBufferPointer { deviation in
        for k in 0..<slotCount {
          while k == sectionStart[section + 1] {
            section += 1
            bounds[section] = active
          }
          let j = Int(slots[k])
          // Padding is added from the precomputed table; an excluded pair's row is zero.
          if j < 0 || model.descriptorExcluded[ti * model.typeCount + Int(types[j])] { continue }
          let a = first + active
          let r = SIMD3(x[3 * j], x[3 * j + 1], x[3 * j + 2]) - xi
          let d = block.displacement + 3 * a
          d[0] = r.x; d[1] = r.y; d[2] = r.z
          let length = (r * r).sum().squareRoot()
          let rho = length + model.protection
          let w = smoothSwitch(length, smoothingStart: model.smoothingStart, cutoff: model.cutoff).value
          let rhoSquared = rho * rho
          let raw = SIMD4(1 / rho * w, r.x / rhoSquared * w, r.y / rhoSquared * w, r.z / rhoSquared * w)
          let statistics = (ti * slotCount + k) * 4
          let row = block.rows + 4 * a
          for c in 0..<4 { row[c] = (raw[c] - average[statistics + c]) / deviation[statistics + c] }
          block.neighbor[a] = Int32(j)
          block.slot[a] = Int32(k)
          active += 1
        }
      }
    }
    while section < model.typeCount {
      section += 1
      bounds[section] = active
    }
    block.activeCount[b] = active
    if fusedTables == nil { embed(centreType: ti, at: b) }
    contract(centreType: ti, at: b)
  }

  /// G and dG/ds of the active slots, one batch per section (one network per section).
  private func embed(centreType ti: Int, at b: Int) {
    let first = b * slotCount
    let bounds = block.sectionBounds + b * (model.typeCount + 1)
    for t in 0..<model.typeCount where bounds[t + 1] > bounds[t] {
      let start = bounds[t], rows = bounds[t + 1] - start
      let index = model.embeddingIndex(centre: ti, neighbor: t)
      let g = block.embedding + 2 * (first + start) * width, dg = g + rows * width
      if let table = model.tables?[index] {
        for a in 0..<rows {
          table.evaluate(block.rows[4 * (first + start + a)], values: g + a * width, slopes: dg + a * width)
        }
      } else if let single, let network = single.embeddings[index] {
        // float32: the network in Float, its G and dG/ds widened for the contraction in Double.
        let input = single.input.reserve(rows), output = single.output.reserve(2 * rows * width)
        for a in 0..<rows { input[a] = Float(block.rows[4 * (first + start + a)]) }
        network.embed(input, rows: rows, into: output, workspace: single.embeddingWorkspace)
        for at in 0..<(2 * rows * width) { g[at] = Double(output[at]) }
      } else if let network = model.embeddings[index] {
        for a in 0..<rows { radialInput[a] = block.rows[4 * (first + start + a)] }
        network.embed(radialInput, rows: rows, into: g, workspace: embeddingWorkspace)
      } else {
        g.update(repeating: 0, count: 2 * rows * width)
      }
    }
  }

  /// T = (Σ_active R̂_kᵀ G_k + Σ_padding R̂_kᵀ G_k) / nnei, then D[m][a] = Σ_c T[c][m] T[c][a].
  private func contract(centreType ti: Int, at b: Int) {
    let first = b * slotCount
    let bounds = block.sectionBounds + b * (model.typeCount + 1)
    let t = block.contraction + b * 4 * width
    t.update(repeating: 0, count: 4 * width)
    for s in 0..<model.typeCount where bounds[s + 1] > bounds[s] {
      let start = first + bounds[s], count = bounds[s + 1] - bounds[s]
      if let fusedTables {
        fusedTables.contract(model.embeddingIndex(centre: ti, neighbor: s), rows: block.rows + 4 * start,
                             count: count, into: t)
      } else {
        accumulateContraction(rows: block.rows + 4 * start, embeddings: block.embedding + 2 * start * width,
                              count: count, width: width, into: t)
      }
    }
    padding.rows.withUnsafeBufferPointer { paddingRows in
      padding.embeddings.withUnsafeBufferPointer { paddingEmbeddings in
        padding.runs.withUnsafeBufferPointer { runs in
          // Σ R̂_k over a run of padding slots sharing one G, then one rank-1 term per run.
          var weight = SIMD4<Double>(), run: Int32 = -1, representative = 0
          func flush() {
            if run < 0 { return }
            let g = paddingEmbeddings.baseAddress! + representative * width
            for c in 0..<4 {
              let row = t + c * width
              for m in 0..<width { row[m] += weight[c] * g[m] }
            }
          }
          for k in 0..<slotCount where slots[k] < 0 {
            let at = ti * slotCount + k
            if runs[at] != run {
              flush()
              weight = SIMD4()
              run = runs[at]
              representative = at
            }
            for c in 0..<4 { weight[c] += paddingRows[4 * at + c] }
          }
          flush()
        }
      }
    }
    let scale = 1 / Double(slotCount)
    for at in 0..<(4 * width) { t[at] *= scale }
    let d = block.descriptor + b * width * axes
    for m in 0..<width {
      for a in 0..<axes {
        var sum = 0.0
        for c in 0..<4 { sum += t[c * width + m] * t[c * width + a] }
        d[m * axes + a] = sum
      }
    }
  }
}
