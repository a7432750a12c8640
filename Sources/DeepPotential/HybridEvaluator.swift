/// Evaluates a hybrid energy model (`HybridModel`) with the contract of
/// `DeepPotentialEvaluator.compute`: per owned atom, one neighbour selection with the list's r_c
/// and sel, each part's slots cut from it as DeePMD-kit cuts them, each part's descriptor by its
/// own evaluator (se_e2_a, DPA-1, se_e2_r / se_e3), the concatenation through the fitting network,
/// and ∂E/∂D split back to the parts, whose backward passes add the forces and virials.
public final class HybridEvaluator {
  public let model: HybridModel
  let selection: NeighborSelection
  let slots: UnsafeMutablePointer<Int32>
  let sectionStart: [Int]
  let parts: [PartEvaluator]
  let fittings: [NetworkTape]
  let descriptorGradient: UnsafeMutablePointer<Double>
  /// Per type, a part's slots taken so far (mixed list to type sections).
  let taken: UnsafeMutablePointer<Int>
  /// Per part, where each of its sections starts among its slots.
  let partSectionStart: [[Int]]

  enum PartEvaluator {
    case angular(DeepPotentialEvaluator)
    case attention(AttentionEvaluator)
    case scalar(ScalarDescriptorEvaluator)

    /// The part's slot buffer, which its `describe` reads.
    var slots: UnsafeMutablePointer<Int32> {
      switch self {
      case .angular(let e): e.slots
      case .attention(let e): e.state.slots
      case .scalar(let e): e.slots
      }
    }
  }

  public init(model: HybridModel) {
    self.model = model
    selection = NeighborSelection(model: model)
    var start = [0]
    for s in model.selection { start.append(start[start.count - 1] + s) }
    sectionStart = start
    slots = zeroedBuffer(start.last!)
    parts = model.parts.map { part in
      switch part {
      case .angular(let m): .angular(DeepPotentialEvaluator(model: m))
      case .attention(let m): .attention(AttentionEvaluator(model: m))
      case .scalar(let m): .scalar(ScalarDescriptorEvaluator(model: m))
      }
    }
    fittings = model.fittings.map { NetworkTape($0, capacity: 1) }
    descriptorGradient = zeroedBuffer(model.descriptorWidth)
    taken = zeroedBuffer(model.typeCount)
    partSectionStart = model.parts.map { part in
      var start = [0]
      for s in part.selection { start.append(start[start.count - 1] + s) }
      return start
    }
  }

  deinit {
    slots.deallocate()
    descriptorGradient.deallocate()
    taken.deallocate()
  }

  /// As `AttentionEvaluator.compute`. An atom counts as overflowing when the one selection dropped
  /// a neighbour within r_c, or a part's cut dropped one within the part's r_c.
  public func compute(positions: UnsafePointer<Double>, types: UnsafePointer<Int32>, ownedCount: Int,
                      totalCount: Int, neighborOffsets: UnsafePointer<Int32>, neighbors: UnsafePointer<Int32>,
                      forces: UnsafeMutablePointer<Double>, atomEnergies: UnsafeMutablePointer<Double>? = nil,
                      atomVirials: UnsafeMutablePointer<Double>? = nil, centres: Range<Int>? = nil) -> DeepPotentialResult {
    var result = DeepPotentialResult()
    // DPA-1 parts read padding's type through atom 0, as in `AttentionEvaluator.compute`.
    let paddingType = ownedCount > 0 && types[0] >= 0 ? Int(types[0]) : model.typeCount
    for i in centres ?? 0..<ownedCount {
      if types[i] < 0 {
        atomEnergies?[i] = 0
        continue
      }
      let list = UnsafeBufferPointer(start: neighbors + Int(neighborOffsets[i]),
                                     count: Int(neighborOffsets[i + 1] - neighborOffsets[i]))
      var overflow = selection.select(centre: i, positions: positions, types: types, neighbors: list, slots: slots)
      let ti = Int(types[i])
      defer { if overflow { result.overflowAtoms += 1 } }
      if model.atomExcluded[ti] {
        atomEnergies?[i] = 0
        continue
      }
      let fitting = fittings[ti]
      var offset = 0
      for (p, (part, evaluator)) in zip(model.parts, parts).enumerated() {
        if distribute(part: p, into: evaluator.slots, centre: i, positions: positions, types: types) { overflow = true }
        let input = fitting.input + offset
        switch evaluator {
        case .angular(let e):
          e.describe(atom: i, at: 0, positions: positions, types: types)
          input.update(from: e.block.descriptor, count: part.descriptorWidth)
        case .attention(let e):
          e.describe(atom: i, positions: positions, types: types, paddingType: paddingType)
          input.update(from: e.state.descriptor, count: part.descriptorWidth)
        case .scalar(let e):
          e.describe(atom: i, positions: positions, types: types, paddingType: paddingType)
          input.update(from: e.descriptor, count: part.descriptorWidth)
        }
        offset += part.descriptorWidth
      }
      fitting.forward(rows: 1)
      var one = 1.0
      fitting.backward(&one, into: descriptorGradient)
      let energy = ((fitting.output[0] - model.vacuumEnergy[ti]) + model.fittingBias[ti]) + model.outputBias[ti]
      result.energy += energy
      atomEnergies?[i] = energy
      offset = 0
      for (part, evaluator) in zip(model.parts, parts) {
        let gradient = descriptorGradient + offset
        switch evaluator {
        case .angular(let e):
          e.block.descriptorGradient.update(from: gradient, count: part.descriptorWidth)
          e.differentiate(atom: i, at: 0, types: types, forces: forces, virial: &result.virial, atomVirials: atomVirials)
        case .attention(let e):
          e.state.descriptorGradient.update(from: gradient, count: part.descriptorWidth)
          e.differentiate(atom: i, types: types, forces: forces, virial: &result.virial, atomVirials: atomVirials)
        case .scalar(let e):
          e.descriptorGradient.update(from: gradient, count: part.descriptorWidth)
          e.differentiate(atom: i, centreType: ti, forces: forces, virial: &result.virial, atomVirials: atomVirials)
        }
        offset += part.descriptorWidth
      }
    }
    return result
  }

  /// A part's slots from the list's, as DeePMD-kit's hybrid cuts its neighbour list: the first
  /// sel_p of each section when the part and the list are alike (both mixed or both sectioned),
  /// otherwise (a sectioned part of a mixed list) the first sel_p[t] neighbours of each type t in
  /// the list's order. A neighbour beyond the part's r_c keeps its slot there with a switch of
  /// zero, which is padding's contribution (HybridModelReader refuses the DPA-1 parts where it is
  /// not): it becomes padding here. Returns whether a neighbour within the part's r_c was cut.
  private func distribute(part p: Int, into target: UnsafeMutablePointer<Int32>, centre i: Int,
                          positions x: UnsafePointer<Double>, types: UnsafePointer<Int32>) -> Bool {
    let part = model.parts[p], partStart = partSectionStart[p]
    let cutoffSquared = part.cutoff * part.cutoff
    func within(_ j: Int) -> Bool {
      let dx = x[3 * j] - x[3 * i], dy = x[3 * j + 1] - x[3 * i + 1], dz = x[3 * j + 2] - x[3 * i + 2]
      return dx * dx + dy * dy + dz * dz <= cutoffSquared
    }
    target.update(repeating: -1, count: partStart[partStart.count - 1])
    var dropped = false
    if part.mixedTypes == model.mixedTypes {
      for (t, count) in model.selection.enumerated() {
        for a in 0..<count {
          let j = Int(slots[sectionStart[t] + a])
          if j < 0 { continue }
          if a < partStart[t + 1] - partStart[t] {
            if within(j) { target[partStart[t] + a] = Int32(j) }
          } else if within(j) {
            dropped = true
          }
        }
      }
    } else {
      taken.update(repeating: 0, count: model.typeCount)
      for a in 0..<model.selection[0] {
        let j = Int(slots[a])
        if j < 0 { continue }
        let t = Int(types[j])
        if taken[t] < partStart[t + 1] - partStart[t] {
          if within(j) { target[partStart[t] + taken[t]] = Int32(j) }
          taken[t] += 1
        } else if within(j) {
          dropped = true
        }
      }
    }
    return dropped
  }
}
