/// Evaluates a se_e2_r, se_e3 or se_e3_tebd energy model (`ScalarDescriptorModel`) on one rank's
/// atoms, owned atoms first, then ghosts, with a full neighbour list of the owned atoms: the
/// contract of `DeepPotentialEvaluator.compute`.
///
/// Atom by atom in float64, as DeePMD-kit's descriptors (`deepmd/pt/model/descriptor/se_r.py`,
/// `se_t.py`, `se_t_tebd.py`) compute it: environment rows of the slots (padding rows −davg/dstd,
/// descriptor-excluded rows zero, both constant), the embedding networks over each section (se_e2_r),
/// each pair of sections (se_e3) or all slot pairs (se_e3_tebd), each batch on its own tape, the
/// descriptor, the fitting network;
/// then the backward pass by hand (through the tapes) to ∂E_i/∂r_ij of every real neighbour.
/// Storage is allocated at init.
public final class ScalarDescriptorEvaluator {
  public let model: ScalarDescriptorModel
  let selection: NeighborSelection
  let slotCount, width, components: Int
  let sectionStart: [Int]
  let fittings: [NetworkTape]
  /// One tape per embedding network (indexed as `model.embeddings`), sized for its batch: a
  /// section's slots (se_e2_r), a pair of sections' slot pairs (se_e3), all slot pairs (se_e3_tebd).
  let tapes: [NetworkTape?]
  let slots: UnsafeMutablePointer<Int32>
  /// Per slot: the normalised row R̂ (components), the displacement r_ij (3), the switch and its
  /// slope, whether a real neighbour moves it (1) or it is constant (padding, excluded: 0).
  let rows, displacement, switchValue, switchSlope, real: UnsafeMutablePointer<Double>
  /// ∂E/∂R̂ per slot (components), and ∂E/∂w through the strip factor (se_e3_tebd).
  let rowGradient, switchGradient: UnsafeMutablePointer<Double>
  /// se_e3_tebd: the type whose embedding each slot reads (the neighbour's; atom 0's for padding
  /// and excluded slots, DeePMD-kit's gather).
  let typeRow: UnsafeMutablePointer<Int>
  /// A batch's ∂E/∂G rows (batch × M1) and ∂E/∂input (batch × input width).
  let upstream, inputGradient: UnsafeMutablePointer<Double>
  let descriptor, descriptorGradient: UnsafeMutablePointer<Double>

  public init(model: ScalarDescriptorModel) {
    self.model = model
    selection = NeighborSelection(model: model)
    slotCount = model.slotCount
    width = model.embeddingWidth
    components = model.components
    var start = [0]
    for s in model.selection { start.append(start[start.count - 1] + s) }
    sectionStart = start
    fittings = model.fittings.map { NetworkTape($0, capacity: 1) }
    let n = model.typeCount, sel = model.selection
    tapes = model.embeddings.enumerated().map { index, network in
      let rows = model.kind == .radial ? sel[index] : model.mixedTypes ? sel[0] * sel[0] : sel[index % n] * sel[index / n]
      return network.map { NetworkTape($0, capacity: max(rows, 1)) }
    }
    let batch = max(tapes.compactMap { $0?.capacity }.max() ?? 1, 1)
    slots = zeroedBuffer(slotCount)
    rows = zeroedBuffer(slotCount * 4)
    displacement = zeroedBuffer(slotCount * 3)
    switchValue = zeroedBuffer(slotCount)
    switchSlope = zeroedBuffer(slotCount)
    real = zeroedBuffer(slotCount)
    rowGradient = zeroedBuffer(slotCount * 4)
    upstream = zeroedBuffer(batch * width)
    inputGradient = zeroedBuffer(batch * (model.embeddings.compactMap { $0?.inputWidth }.max() ?? 1))
    switchGradient = zeroedBuffer(slotCount)
    typeRow = zeroedBuffer(slotCount)
    descriptor = zeroedBuffer(model.descriptorWidth)
    descriptorGradient = zeroedBuffer(model.descriptorWidth)
  }

  deinit {
    slots.deallocate()
    typeRow.deallocate()
    for p in [rows, displacement, switchValue, switchSlope, real, rowGradient, switchGradient, upstream, inputGradient, descriptor,
              descriptorGradient] {
      p.deallocate()
    }
  }

  /// As `AttentionEvaluator.compute`: forces on owned and ghost atoms added into `forces`, owned
  /// atoms' energies written, per-atom virials (attributed to the neighbour) added when given.
  public func compute(positions: UnsafePointer<Double>, types: UnsafePointer<Int32>, ownedCount: Int,
                      totalCount: Int, neighborOffsets: UnsafePointer<Int32>, neighbors: UnsafePointer<Int32>,
                      forces: UnsafeMutablePointer<Double>, atomEnergies: UnsafeMutablePointer<Double>? = nil,
                      atomVirials: UnsafeMutablePointer<Double>? = nil, centres: Range<Int>? = nil) -> DeepPotentialResult {
    var result = DeepPotentialResult()
    // se_e3_tebd reads padding's type through atom 0, as `AttentionEvaluator.compute`.
    let paddingType = ownedCount > 0 && types[0] >= 0 ? Int(types[0]) : model.typeCount
    for i in centres ?? 0..<ownedCount {
      if types[i] < 0 {
        atomEnergies?[i] = 0
        continue
      }
      let list = UnsafeBufferPointer(start: neighbors + Int(neighborOffsets[i]),
                                     count: Int(neighborOffsets[i + 1] - neighborOffsets[i]))
      if selection.select(centre: i, positions: positions, types: types, neighbors: list, slots: slots) {
        result.overflowAtoms += 1
      }
      let ti = Int(types[i])
      if model.atomExcluded[ti] {
        atomEnergies?[i] = 0
        continue
      }
      describe(atom: i, positions: positions, types: types, paddingType: paddingType)
      let fitting = fittings[ti]
      fitting.input.update(from: descriptor, count: model.descriptorWidth)
      fitting.forward(rows: 1)
      var one = 1.0
      fitting.backward(&one, into: descriptorGradient)
      let energy = ((fitting.output[0] - model.vacuumEnergy[ti]) + model.fittingBias[ti]) + model.outputBias[ti]
      result.energy += energy
      atomEnergies?[i] = energy
      differentiate(atom: i, centreType: ti, forces: forces, virial: &result.virial, atomVirials: atomVirials)
    }
    return result
  }

  /// From the atom's slots (`slots`) to its descriptor (`descriptor`); `paddingType` is the type
  /// se_e3_tebd's padding slots read.
  func describe(atom i: Int, positions: UnsafePointer<Double>, types: UnsafePointer<Int32>, paddingType: Int) {
    environment(atom: i, positions: positions, types: types, paddingType: paddingType)
    switch model.kind {
    case .radial: radial(differentiating: false)
    case .threeBody: threeBody(differentiating: false)
    case .typeEmbeddedThreeBody:
      typeEmbeddedThreeBody(differentiating: false)
      if model.appendsTypeEmbedding {
        let tebd = model.typeEmbeddingWidth, ti = Int(types[i])
        for c in 0..<tebd { descriptor[width + c] = model.typeEmbedding[ti * tebd + c] }
      }
    }
  }

  /// From ∂E/∂D (`descriptorGradient`) of the atom last described to forces and virials.
  func differentiate(atom i: Int, centreType: Int, forces: UnsafeMutablePointer<Double>,
                     virial: inout InlineArray<9, Double>, atomVirials: UnsafeMutablePointer<Double>?) {
    rowGradient.update(repeating: 0, count: slotCount * components)
    switchGradient.update(repeating: 0, count: slotCount)
    switch model.kind {
    case .radial: radial(differentiating: true)
    case .threeBody: threeBody(differentiating: true)
    case .typeEmbeddedThreeBody: typeEmbeddedThreeBody(differentiating: true)
    }
    scatter(atom: i, centreType: centreType, forces: forces, virial: &virial, atomVirials: atomVirials)
  }

  /// R̂_k = (R_k − davg)/dstd with R = w·(1/ρ, r/ρ²) (its first component only for se_e2_r);
  /// padding has R = 0, a descriptor-excluded neighbour R̂ = 0 (DeePMD-kit masks after normalising).
  private func environment(atom i: Int, positions x: UnsafePointer<Double>, types: UnsafePointer<Int32>,
                           paddingType: Int) {
    let ti = Int(types[i]), n = model.typeCount, c = components
    let xi = SIMD3(x[3 * i], x[3 * i + 1], x[3 * i + 2])
    model.average.withUnsafeBufferPointer { average in
      model.deviation.withUnsafeBufferPointer { deviation in
        for k in 0..<slotCount {
          let j = Int(slots[k])
          let statistics = (ti * slotCount + k) * c
          let row = rows + c * k
          let excluded = j >= 0 && model.descriptorExcluded[ti * n + Int(types[j])]
          real[k] = 0
          switchValue[k] = 0
          switchSlope[k] = 0
          typeRow[k] = paddingType
          if j < 0 || excluded {
            for a in 0..<c { row[a] = excluded ? 0 : (0 - average[statistics + a]) / deviation[statistics + a] }
            continue
          }
          let r = SIMD3(x[3 * j], x[3 * j + 1], x[3 * j + 2]) - xi
          let d = displacement + 3 * k
          d[0] = r.x; d[1] = r.y; d[2] = r.z
          let length = (r * r).sum().squareRoot()
          let rho = length + model.protection
          let (w, dw) = smoothSwitch(length, smoothingStart: model.smoothingStart, cutoff: model.cutoff)
          let raw = SIMD4(w / rho, r.x / (rho * rho) * w, r.y / (rho * rho) * w, r.z / (rho * rho) * w)
          for a in 0..<c { row[a] = (raw[a] - average[statistics + a]) / deviation[statistics + a] }
          switchValue[k] = w
          switchSlope[k] = dw
          real[k] = 1
          typeRow[k] = Int(types[j])
        }
      }
    }
  }

  /// se_e2_r: D = (1/5) Σ_k G_{t_k}(s_k) / nnei over every slot; with `differentiating`,
  /// ∂E/∂s_k = (1/5) Σ_m ∂E/∂D_m G'_m(s_k) / nnei instead, through the section's tape.
  private func radial(differentiating: Bool) {
    let scale = 1 / (5 * Double(slotCount))
    if !differentiating { descriptor.update(repeating: 0, count: width) }
    for t in 0..<model.typeCount where model.selection[t] > 0 {
      let tape = tapes[t]!, start = sectionStart[t], count = model.selection[t]
      if differentiating {
        for a in 0..<count {
          for m in 0..<width { upstream[a * width + m] = descriptorGradient[m] * scale }
        }
        tape.backward(upstream, into: inputGradient)
        for a in 0..<count where real[start + a] != 0 { rowGradient[start + a] = inputGradient[a] }
      } else {
        for a in 0..<count { tape.input[a] = rows[start + a] }
        tape.forward(rows: count)
        for a in 0..<count {
          for m in 0..<width { descriptor[m] += tape.output[a * width + m] * scale }
        }
      }
    }
  }

  /// se_e3: D = Σ_{ti ≤ tj} Σ_{a ∈ ti, b ∈ tj} e_ab G(e_ab) / (sel_ti sel_tj), e_ab = u_a·u_b with
  /// u = R̂[1:4]; with `differentiating`, ∂E/∂u_a and ∂E/∂u_b from ∂E/∂e_ab = Σ_m ∂E/∂D_m (G_m + e G'_m),
  /// the slope part through the pair's tape.
  private func threeBody(differentiating: Bool) {
    let n = model.typeCount
    if !differentiating { descriptor.update(repeating: 0, count: width) }
    for tj in 0..<n {
      for ti in 0...tj where model.selection[ti] > 0 && model.selection[tj] > 0 {
        let first = sectionStart[ti], second = sectionStart[tj]
        let ni = model.selection[ti], nj = model.selection[tj], count = ni * nj
        let scale = 1 / (Double(ni) * Double(nj))
        let tape = tapes[ti + n * tj]!
        if differentiating {
          for p in 0..<count {
            let e = tape.input[p] * scale
            for m in 0..<width { upstream[p * width + m] = descriptorGradient[m] * e }
          }
          tape.backward(upstream, into: inputGradient)
          for p in 0..<count {
            let a = first + p / nj, b = second + p % nj
            if real[a] == 0 && real[b] == 0 { continue }
            let g = tape.output + p * width
            var sum = 0.0
            for m in 0..<width { sum += descriptorGradient[m] * g[m] }
            let de = sum * scale + inputGradient[p]
            let u = rows + 4 * a, v = rows + 4 * b
            for c in 1..<4 {
              rowGradient[4 * a + c] += de * v[c]
              rowGradient[4 * b + c] += de * u[c]
            }
          }
        } else {
          for a in 0..<ni {
            let u = rows + 4 * (first + a)
            for b in 0..<nj {
              let v = rows + 4 * (second + b)
              tape.input[a * nj + b] = u[1] * v[1] + u[2] * v[2] + u[3] * v[3]
            }
          }
          tape.forward(rows: count)
          for p in 0..<count {
            let e = tape.input[p], g = tape.output + p * width
            for m in 0..<width { descriptor[m] += e * g[m] * scale }
          }
        }
      }
    }
  }

  /// se_e3_tebd: D = Σ_{a,b} e_ab G_ab / nnei² with G = N([e, T_a, T_b]) (concat) or
  /// N(e) ⊙ (1 + f_ab), f_ab = N_t(T_a, T_b) (· w_a w_b when smooth) (strip); with `differentiating`,
  /// ∂E/∂u through ∂E/∂e (the network's slope through the tape) and, in smooth strip mode, ∂E/∂w.
  private func typeEmbeddedThreeBody(differentiating: Bool) {
    let nn = slotCount, count = nn * nn, scale = 1 / (Double(nn) * Double(nn))
    let tape = tapes[0]!, inputWidth = tape.network.inputWidth
    let tebd = model.typeEmbeddingWidth, padded = model.typeCount + 1
    model.typeEmbedding.withUnsafeBufferPointer { embedding in
      (model.typePairTable ?? []).withUnsafeBufferPointer { table in
        // f_ab of pair p, and the switch weight it carries (1 unless smooth).
        func factor(_ a: Int, _ b: Int) -> (UnsafePointer<Double>, Double) {
          let row = table.baseAddress! + (typeRow[a] * padded + typeRow[b]) * width
          return (row, model.smooth ? switchValue[a] * switchValue[b] : 1)
        }
        if !differentiating {
          descriptor.update(repeating: 0, count: width)
          for a in 0..<nn {
            let u = rows + 4 * a
            for b in 0..<nn {
              let v = rows + 4 * b, input = tape.input + (a * nn + b) * inputWidth
              input[0] = u[1] * v[1] + u[2] * v[2] + u[3] * v[3]
              if model.typePairTable == nil {
                for c in 0..<tebd {
                  input[1 + c] = embedding[typeRow[a] * tebd + c]
                  input[1 + tebd + c] = embedding[typeRow[b] * tebd + c]
                }
              }
            }
          }
          tape.forward(rows: count)
          for p in 0..<count {
            let e = tape.input[p * inputWidth] * scale, g = tape.output + p * width
            if model.typePairTable == nil {
              for m in 0..<width { descriptor[m] += e * g[m] }
            } else {
              let (f, weight) = factor(p / nn, p % nn)
              for m in 0..<width { descriptor[m] += e * g[m] * (1 + f[m] * weight) }
            }
          }
          return
        }
        for p in 0..<count {
          let e = tape.input[p * inputWidth] * scale, up = upstream + p * width
          if model.typePairTable == nil {
            for m in 0..<width { up[m] = descriptorGradient[m] * e }
          } else {
            let (f, weight) = factor(p / nn, p % nn)
            for m in 0..<width { up[m] = descriptorGradient[m] * e * (1 + f[m] * weight) }
          }
        }
        tape.backward(upstream, into: inputGradient)
        for p in 0..<count {
          let a = p / nn, b = p % nn
          if real[a] == 0 && real[b] == 0 { continue }
          let e = tape.input[p * inputWidth], g = tape.output + p * width
          var sum = 0.0, weighted = 0.0
          if model.typePairTable == nil {
            for m in 0..<width { sum += descriptorGradient[m] * g[m] }
          } else {
            let (f, weight) = factor(a, b)
            for m in 0..<width {
              sum += descriptorGradient[m] * g[m] * (1 + f[m] * weight)
              weighted += descriptorGradient[m] * g[m] * f[m]
            }
            if model.smooth {
              let dWeight = weighted * e * scale
              switchGradient[a] += dWeight * switchValue[b]
              switchGradient[b] += dWeight * switchValue[a]
            }
          }
          let de = sum * scale + inputGradient[p * inputWidth]
          let u = rows + 4 * a, v = rows + 4 * b
          for c in 1..<4 {
            rowGradient[4 * a + c] += de * v[c]
            rowGradient[4 * b + c] += de * u[c]
          }
        }
      }
    }
  }

  /// From ∂E/∂R̂ of each real neighbour to ∂E_i/∂r_ij: forces on i and j, the virial and j's
  /// per-atom virial, through R_0 = w/ρ and R_a = w·r_a/ρ².
  private func scatter(atom i: Int, centreType: Int, forces f: UnsafeMutablePointer<Double>, virial: inout InlineArray<9, Double>,
                       atomVirials: UnsafeMutablePointer<Double>?) {
    let c = components
    model.deviation.withUnsafeBufferPointer { deviation in
      for k in 0..<slotCount where real[k] != 0 {
        let j = Int(slots[k])
        let statistics = (centreType * slotCount + k) * c
        var dR = SIMD4<Double>()
        for a in 0..<c { dR[a] = rowGradient[c * k + a] / deviation[statistics + a] }
        let d = displacement + 3 * k
        let r = SIMD3(d[0], d[1], d[2])
        let length = (r * r).sum().squareRoot()
        let rho = length + model.protection
        let w = switchValue[k], dw = switchSlope[k]
        let angular = SIMD3(dR[1], dR[2], dR[3])
        let radialPart = dR[0] * (dw / rho - w / (rho * rho))
          + (angular * r).sum() * (dw / (rho * rho) - 2 * w / (rho * rho * rho)) + switchGradient[k] * dw
        let gradient = (r / length) * radialPart + angular * (w / (rho * rho))
        for p in 0..<3 {
          f[3 * i + p] += gradient[p]
          f[3 * j + p] -= gradient[p]
          for q in 0..<3 {
            let term = gradient[p] * r[q]
            virial[3 * p + q] -= term
            atomVirials?[9 * j + 3 * p + q] -= term
          }
        }
      }
    }
  }
}
