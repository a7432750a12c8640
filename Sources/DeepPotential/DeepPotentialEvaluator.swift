import CBLAS
import Foundation

/// What one evaluation produced besides forces.
public struct DeepPotentialResult: Sendable {
  /// Σ of the owned atoms' energies (eV).
  public var energy: Double = 0
  /// W = −Σ_i Σ_j (∂E_i/∂r_ij) ⊗ r_ij over owned centres, 9 components row-major (eV):
  /// DeePMD-kit's virial, whose LAMMPS xx yy zz xy xz yz are indices 0 4 8 3 6 7.
  public var virial = [Double](repeating: 0, count: 9)
  /// Owned atoms that had more neighbours of some type within r_c than `sel` allows.
  public var overflowAtoms = 0
}

/// Evaluates a se_e2_a energy model on one rank's atoms: owned atoms first, then ghosts (periodic
/// images or other ranks' atoms), with a full neighbour list of the owned atoms that contains at
/// least every atom within the model's cut-off.
///
/// Atoms are processed in blocks: the descriptor of each atom of a block (embedding networks over
/// its neighbour slots), then the fitting networks over the block's atoms grouped by type, then
/// the backward pass to forces and virials. Dense products go through BLAS.
public final class DeepPotentialEvaluator {
  public let model: DeepPotentialModel
  private let selection: NeighborSelection
  private let blockSize = 16
  private let slotCount, width, axes: Int
  private let sectionStart: [Int]
  // Per block of atoms, allocated once: a timestep allocates nothing.
  private let slots: UnsafeMutablePointer<Int32>
  private let displacement: UnsafeMutablePointer<Double>
  private let rows: UnsafeMutablePointer<Double>
  private let embedding: UnsafeMutablePointer<Double>
  private let embeddingSlope: UnsafeMutablePointer<Double>
  private let contraction: UnsafeMutablePointer<Double>
  private let descriptor: UnsafeMutablePointer<Double>
  private let descriptorGradient: UnsafeMutablePointer<Double>
  private let atomEnergy: UnsafeMutablePointer<Double>
  // Per atom or per type group.
  private let radialInput: UnsafeMutablePointer<Double>
  private let rowGradient: UnsafeMutablePointer<Double>
  private let rotated: UnsafeMutablePointer<Double>
  private let contractionGradient: UnsafeMutablePointer<Double>
  private let packedInput: UnsafeMutablePointer<Double>
  private let packedGradient: UnsafeMutablePointer<Double>
  private let packedOutput: UnsafeMutablePointer<Double>
  private let members: UnsafeMutablePointer<Int>
  private let networkScratch = (ScratchBuffer(), ScratchBuffer())
  private let fittingWorkspace = FittingWorkspace()

  public init(model: DeepPotentialModel) {
    // One thread per rank: ranks already fill the cores, and BLAS threads on small blocks only cost.
    openblas_set_num_threads(1)
    self.model = model
    selection = NeighborSelection(model: model)
    slotCount = model.slotCount
    width = model.embeddingWidth
    axes = model.axisCount
    var start = [0]
    for s in model.selection { start.append(start[start.count - 1] + s) }
    sectionStart = start
    let b = blockSize
    func zeros(_ count: Int) -> UnsafeMutablePointer<Double> {
      let p = UnsafeMutablePointer<Double>.allocate(capacity: count)
      p.initialize(repeating: 0, count: count)
      return p
    }
    slots = .allocate(capacity: b * slotCount)
    slots.initialize(repeating: -1, count: b * slotCount)
    members = .allocate(capacity: b)
    members.initialize(repeating: 0, count: b)
    displacement = zeros(b * slotCount * 3)
    rows = zeros(b * slotCount * 4)
    embedding = zeros(b * slotCount * width)
    embeddingSlope = zeros(b * slotCount * width)
    contraction = zeros(b * 4 * width)
    descriptor = zeros(b * width * axes)
    descriptorGradient = zeros(b * width * axes)
    atomEnergy = zeros(b)
    radialInput = zeros(slotCount)
    rowGradient = zeros(slotCount * 4)
    rotated = zeros(slotCount * width)
    contractionGradient = zeros(4 * width)
    packedInput = zeros(b * width * axes)
    packedGradient = zeros(b * width * axes)
    packedOutput = zeros(b)
  }

  deinit {
    for p in [displacement, rows, embedding, embeddingSlope, contraction, descriptor, descriptorGradient, atomEnergy,
              radialInput, rowGradient, rotated, contractionGradient, packedInput, packedGradient, packedOutput] {
      p.deallocate()
    }
    slots.deallocate()
    members.deallocate()
  }

  /// Adds forces on owned and ghost atoms into `forces` (packed [totalCount][3]), writes owned atoms'
  /// energies into `atomEnergies` and adds per-atom virials (9 components, DeePMD-kit order,
  /// attributed to the neighbour) into `atomVirials` ([totalCount][9]) when given.
  /// `types` are model type indices; a negative type is an atom this model ignores.
  public func compute(positions: UnsafePointer<Double>, types: UnsafePointer<Int32>, ownedCount: Int,
                      totalCount: Int, neighborOffsets: UnsafePointer<Int32>, neighbors: UnsafePointer<Int32>,
                      forces: UnsafeMutablePointer<Double>, atomEnergies: UnsafeMutablePointer<Double>? = nil,
                      atomVirials: UnsafeMutablePointer<Double>? = nil) -> DeepPotentialResult {
    var result = DeepPotentialResult()
    var blockStart = 0
    while blockStart < ownedCount {
      let block = blockStart..<min(blockStart + blockSize, ownedCount)
      for (b, i) in block.enumerated() {
        if types[i] < 0 { continue }
        let list = UnsafeBufferPointer(start: neighbors + Int(neighborOffsets[i]),
                                       count: Int(neighborOffsets[i + 1] - neighborOffsets[i]))
        if selection.select(centre: i, positions: positions, types: types, neighbors: list,
                            slots: slots + b * slotCount) {
          result.overflowAtoms += 1
        }
        describe(atom: i, at: b, positions: positions, types: types)
      }
      fit(block: block, types: types)
      for (b, i) in block.enumerated() where types[i] >= 0 {
        result.energy += atomEnergy[b]
        atomEnergies?[i] = atomEnergy[b]
        differentiate(atom: i, at: b, types: types, forces: forces, virial: &result.virial, atomVirials: atomVirials)
      }
      if let atomEnergies {
        for i in block where types[i] < 0 { atomEnergies[i] = 0 }
      }
      blockStart = block.upperBound
    }
    return result
  }

  /// s(r) switch (spec §3.1): 1 below r_s, 0 beyond r_c, C² in between.
  @inline(__always)
  private func switching(_ r: Double) -> (value: Double, slope: Double) {
    let rs = model.smoothingStart, rc = model.cutoff
    if r <= rs { return (1, 0) }
    if r >= rc { return (0, 0) }
    let u = (r - rs) / (rc - rs)
    let value = u * u * u * (-6 * u * u + 15 * u - 10) + 1
    let slope = -30 * u * u * (1 - u) * (1 - u) / (rc - rs)
    return (value, slope)
  }

  /// Environment rows R̂ (normalised, excluded pairs zeroed), embeddings G and dG/ds, the
  /// contraction T = R̂ᵀG/nnei and the descriptor D = Tᵀ T_< of one atom.
  private func describe(atom i: Int, at b: Int, positions x: UnsafePointer<Double>, types: UnsafePointer<Int32>) {
    let ti = Int(types[i])
    let n = model.typeCount
    let slotBase = b * slotCount
    let xi = SIMD3(x[3 * i], x[3 * i + 1], x[3 * i + 2])
    model.average.withUnsafeBufferPointer { average in
      model.deviation.withUnsafeBufferPointer { deviation in
        for k in 0..<slotCount {
          let statistics = (ti * slotCount + k) * 4
          let row = rows + (slotBase + k) * 4
          let j = Int(slots[slotBase + k])
          var raw = SIMD4<Double>(repeating: 0)
          var mask = 1.0
          if j >= 0 {
            let r = SIMD3(x[3 * j], x[3 * j + 1], x[3 * j + 2]) - xi
            let d = displacement + 3 * (slotBase + k)
            d[0] = r.x; d[1] = r.y; d[2] = r.z
            let length = (r * r).sum().squareRoot()
            let rho = length + model.protection
            let w = switching(length).value
            let rhoSquared = rho * rho
            raw = SIMD4(1 / rho * w, r.x / rhoSquared * w, r.y / rhoSquared * w, r.z / rhoSquared * w)
            if model.descriptorExcluded[ti * n + Int(types[j])] { mask = 0 }
          }
          for c in 0..<4 { row[c] = mask * ((raw[c] - average[statistics + c]) / deviation[statistics + c]) }
        }
      }
    }
    embed(centreType: ti, at: b)
    contract(at: b)
  }

  private func embed(centreType ti: Int, at b: Int) {
    let slotBase = b * slotCount
    for t in 0..<model.typeCount where model.selection[t] > 0 {
      let count = model.selection[t], first = slotBase + sectionStart[t]
      let index = model.embeddingIndex(centre: ti, neighbor: t)
      let values = embedding + first * width, slopes = embeddingSlope + first * width
      if let table = model.tables?[index] {
        for k in 0..<count {
          table.evaluate(rows[(first + k) * 4], values: values + k * width, slopes: slopes + k * width)
        }
      } else if let network = model.embeddings[index] {
        // Padding follows the real neighbours, and padding slots with equal inputs (one value per
        // section in trained models) share one evaluation.
        var real = 0
        while real < count && slots[first + real] >= 0 { real += 1 }
        let evaluated = min(real + 1, count)
        for k in 0..<evaluated { radialInput[k] = rows[(first + k) * 4] }
        network.embed(radialInput, rows: evaluated, values: values, slopes: slopes, scratch: networkScratch)
        for k in evaluated..<count {
          if rows[(first + k) * 4] == radialInput[real] {
            (values + k * width).update(from: values + real * width, count: width)
            (slopes + k * width).update(from: slopes + real * width, count: width)
          } else {
            radialInput[0] = rows[(first + k) * 4]
            network.embed(radialInput, rows: 1, values: values + k * width, slopes: slopes + k * width,
                          scratch: networkScratch)
          }
        }
      } else {
        values.update(repeating: 0, count: count * width)
        slopes.update(repeating: 0, count: count * width)
      }
    }
  }

  private func contract(at b: Int) {
    let t = contraction + b * 4 * width
    multiplyTransposedA(rows + b * slotCount * 4, embedding + b * slotCount * width, into: t,
                        m: 4, n: width, k: slotCount)
    let scale = 1 / Double(slotCount)
    for at in 0..<(4 * width) { t[at] *= scale }
    let d = descriptor + b * width * axes
    for m in 0..<width {
      for a in 0..<axes {
        var sum = 0.0
        for c in 0..<4 { sum += t[c * width + m] * t[c * width + a] }
        d[m * axes + a] = sum
      }
    }
  }

  /// Atomic energies and ∂E_i/∂D for the block, one fitting network per type.
  private func fit(block: Range<Int>, types: UnsafePointer<Int32>) {
    let inputWidth = width * axes
    for t in 0..<model.typeCount {
      var count = 0
      for (b, i) in block.enumerated() where Int(types[i]) == t {
        members[count] = b
        count += 1
      }
      if count == 0 { continue }
      if model.atomExcluded[t] {
        for r in 0..<count {
          atomEnergy[members[r]] = 0
          (descriptorGradient + members[r] * inputWidth).update(repeating: 0, count: inputWidth)
        }
        continue
      }
      for r in 0..<count {
        (packedInput + r * inputWidth).update(from: descriptor + members[r] * inputWidth, count: inputWidth)
      }
      model.fittings[t].evaluateWithGradient(packedInput, rows: count, outputs: packedOutput,
                                             gradient: packedGradient, workspace: fittingWorkspace)
      for r in 0..<count {
        let b = members[r]
        atomEnergy[b] = ((packedOutput[r] - model.vacuumEnergy[t]) + model.fittingBias[t]) + model.outputBias[t]
        (descriptorGradient + b * inputWidth).update(from: packedGradient + r * inputWidth, count: inputWidth)
      }
    }
  }

  /// Chain rule from ∂E_i/∂D back to every neighbour displacement (spec §7.2).
  private func differentiate(atom i: Int, at b: Int, types: UnsafePointer<Int32>, forces f: UnsafeMutablePointer<Double>,
                             virial: inout [Double], atomVirials: UnsafeMutablePointer<Double>?) {
    let ti = Int(types[i])
    let n = model.typeCount
    let slotBase = b * slotCount
    // B[c][m] = Σ_a A[m][a] T[c][a] + [m < M2] Σ_p A[p][m] T[c][p]  with A = ∂E/∂D (M1 × M2).
    let t = contraction + b * 4 * width, a = descriptorGradient + b * width * axes
    for c in 0..<4 {
      for m in 0..<width {
        var sum = 0.0
        for q in 0..<axes { sum += a[m * axes + q] * t[c * width + q] }
        if m < axes {
          for p in 0..<width { sum += a[p * axes + m] * t[c * width + p] }
        }
        contractionGradient[c * width + m] = sum
      }
    }
    // ∂E/∂R̂_k = (G_k·Bᵀ + δ_c0 (R̂_k·B)·G'_k) / nnei
    let g = embedding + slotBase * width, dg = embeddingSlope + slotBase * width
    multiply(g, contractionGradient, into: rowGradient, m: slotCount, n: 4, k: width, transposeB: true)
    multiply(rows + slotBase * 4, contractionGradient, into: rotated, m: slotCount, n: width, k: 4)
    for k in 0..<slotCount {
      var radial = 0.0
      for m in 0..<width { radial += rotated[k * width + m] * dg[k * width + m] }
      rowGradient[4 * k] += radial
    }
    let scale = 1 / Double(slotCount)
    model.deviation.withUnsafeBufferPointer { deviation in
      for k in 0..<slotCount {
        let j = Int(slots[slotBase + k])
        if j < 0 || model.descriptorExcluded[ti * n + Int(types[j])] { continue }
        let statistics = (ti * slotCount + k) * 4
        var dR = SIMD4<Double>()
        for c in 0..<4 { dR[c] = scale * rowGradient[4 * k + c] / deviation[statistics + c] }
        let d = displacement + 3 * (slotBase + k)
        let r = SIMD3(d[0], d[1], d[2])
        let length = (r * r).sum().squareRoot()
        let rho = length + model.protection
        let (w, dw) = switching(length)
        let angular = SIMD3(dR[1], dR[2], dR[3])
        // g = ∂E_i/∂r_ij through R_0 = w/ρ and R_a = w·r_a/ρ² (spec §3.5).
        let radialPart = dR[0] * (dw / rho - w / (rho * rho))
          + (angular * r).sum() * (dw / (rho * rho) - 2 * w / (rho * rho * rho))
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
