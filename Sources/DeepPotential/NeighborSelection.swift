/// Fills an atom's type-sectioned neighbour slots as DeePMD-kit's Python inference does (spec §2.4):
/// neighbours within r_c sorted by distance (ties by index), the nearest Σsel kept overall, then the
/// nearest sel[t] of each type (mixed types: one section, nearest first); the rest of each section,
/// and neighbours whose type pair the model excludes (`pair_exclude_types`), are padding (-1).
final class NeighborSelection {
  private let selection: [Int]
  /// Which section holds each type's neighbours: its own (se_e2_a) or the one shared (mixed types).
  private let sectionOfType: [Int]
  private let sectionStart: [Int]
  private let cutoffSquared: Double
  private let typeCount: Int
  private let pairExcluded: [Bool]
  private let candidates = ScratchBuffer<Candidate>()

  /// A neighbour within r_c; ordered by distance, then index (a total order, so any sort agrees).
  private struct Candidate {
    var distanceSquared: Double
    var index: Int32

    @inline(__always)
    func precedes(_ other: Candidate) -> Bool {
      distanceSquared < other.distanceSquared || (distanceSquared == other.distanceSquared && index < other.index)
    }
  }

  convenience init(model: DeepPotentialModel) {
    self.init(selection: model.selection, sectionOfType: Array(0..<model.typeCount), cutoff: model.cutoff,
              pairExcluded: model.pairExcluded)
  }

  /// se_e2_r, se_e3: type-sectioned as se_e2_a; se_e3_tebd: mixed types.
  convenience init(model: ScalarDescriptorModel) {
    self.init(selection: model.selection,
              sectionOfType: model.mixedTypes ? [Int](repeating: 0, count: model.typeCount) : Array(0..<model.typeCount),
              cutoff: model.cutoff, pairExcluded: model.pairExcluded)
  }

  /// A hybrid's one selection: mixed types when some part is DPA-1, sectioned otherwise.
  convenience init(model: HybridModel) {
    self.init(selection: model.selection,
              sectionOfType: model.mixedTypes ? [Int](repeating: 0, count: model.typeCount) : Array(0..<model.typeCount),
              cutoff: model.cutoff, pairExcluded: model.pairExcluded)
  }

  /// Mixed types (DPA-1): one section of `model.selection` slots, the nearest neighbours of any type.
  convenience init(model: AttentionModel) {
    self.init(selection: [model.selection], sectionOfType: [Int](repeating: 0, count: model.typeCount),
              cutoff: model.cutoff, pairExcluded: model.pairExcluded)
  }

  /// DPA-3: one section of e_sel slots, the nearest first (the angle list is a prefix of it).
  convenience init(model: RepflowModel) {
    self.init(selection: [model.selection], sectionOfType: [Int](repeating: 0, count: model.typeCount),
              cutoff: model.cutoff, pairExcluded: [Bool](repeating: false, count: model.typeCount * model.typeCount))
  }

  private init(selection: [Int], sectionOfType: [Int], cutoff: Double, pairExcluded: [Bool]) {
    self.selection = selection
    self.sectionOfType = sectionOfType
    var start = [0]
    for s in selection { start.append(start[start.count - 1] + s) }
    sectionStart = start
    cutoffSquared = cutoff * cutoff
    typeCount = sectionOfType.count
    self.pairExcluded = pairExcluded
  }

  /// Writes neighbour indices into `slots` (Σsel entries, -1 for padding) and returns whether any
  /// neighbour within the cut-off had to be dropped.
  func select(centre i: Int, positions x: UnsafePointer<Double>, types: UnsafePointer<Int32>,
              neighbors: UnsafeBufferPointer<Int32>, slots: UnsafeMutablePointer<Int32>) -> Bool {
    let candidates = self.candidates.reserve(neighbors.count)
    var count = 0
    let xi = x[3 * i], yi = x[3 * i + 1], zi = x[3 * i + 2]
    for j32 in neighbors {
      let j = Int(j32)
      if j == i || types[j] < 0 { continue }
      let dx = x[3 * j] - xi, dy = x[3 * j + 1] - yi, dz = x[3 * j + 2] - zi
      let r2 = dx * dx + dy * dy + dz * dz
      if r2 <= cutoffSquared {
        candidates[count] = Candidate(distanceSquared: r2, index: j32)
        count += 1
      }
    }
    Self.sort(candidates, count: count)
    let total = sectionStart[sectionStart.count - 1]
    let centreType = Int(types[i])
    var overflow = count > total
    slots.update(repeating: -1, count: total)
    return withUnsafeTemporaryAllocation(of: Int.self, capacity: selection.count) { used in
      used.initialize(repeating: 0)
      for candidate in UnsafeBufferPointer(start: candidates, count: min(count, total)) {
        let t = Int(types[Int(candidate.index)]), s = sectionOfType[t]
        if used[s] < selection[s] {
          // Model-level pair exclusion turns the neighbour into padding, after the truncation.
          if !pairExcluded[centreType * typeCount + t] { slots[sectionStart[s] + used[s]] = candidate.index }
          used[s] += 1
        } else {
          overflow = true
        }
      }
      return overflow
    }
  }

  /// Binary insertion sort: an atom has tens to a few hundred candidates, each placed after a
  /// binary search with one block move, without the allocation of the library's sort.
  private static func sort(_ items: UnsafeMutablePointer<Candidate>, count: Int) {
    for a in 1..<max(count, 1) {
      let item = items[a]
      var low = 0, high = a
      while low < high {
        let middle = (low + high) / 2
        if item.precedes(items[middle]) { high = middle } else { low = middle + 1 }
      }
      if low < a {
        (items + low + 1).update(from: items + low, count: a - low)
        items[low] = item
      }
    }
  }
}
