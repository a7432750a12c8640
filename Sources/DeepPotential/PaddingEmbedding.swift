/// What padding slots contribute, computed once per model.
///
/// A padding slot's raw row is zero, so its normalised row −davg/dstd and its embedding depend only
/// on the centre type and the slot (spec §2.4). Padding needs no derivative (nothing moves it), so
/// an atom's padding enters only the contraction T, as Σ R̂_k ⊗ G_k over its padding slots. Runs of
/// slots in one section with the same input share one embedding (one per section in trained
/// models), so that sum is taken as (Σ R̂_k) ⊗ G: one rank-1 term per run instead of one per slot.
struct PaddingEmbedding {
  /// R̂ of padding slot k of centre type t at [(t·nnei + k)·4].
  let rows: [Double]
  /// G of padding slot k of centre type t at [(t·nnei + k)·M1].
  let embeddings: [Double]
  /// Slots with equal run numbers (consecutive, same section, same input) have equal G.
  let runs: [Int32]

  init(model: DeepPotentialModel, sectionStart: [Int]) {
    // Padding of the other descriptors (DPA-1, se_e2_r, se_e3, se_e3_tebd, hybrid) is handled by their evaluators.
    if model.otherDescriptorName != nil {
      (rows, embeddings, runs) = ([], [], [])
      return
    }
    let slotCount = model.slotCount, width = model.embeddingWidth
    var rows = [Double](repeating: 0, count: model.typeCount * slotCount * 4)
    var embeddings = [Double](repeating: 0, count: model.typeCount * slotCount * width)
    var runs = [Int32](repeating: 0, count: model.typeCount * slotCount)
    var run: Int32 = 0
    let workspace = EmbeddingWorkspace<Double>()
    var valueAndSlope = [Double](repeating: 0, count: 2 * width)
    for ti in 0..<model.typeCount {
      for tj in 0..<model.typeCount {
        let index = model.embeddingIndex(centre: ti, neighbor: tj)
        var previousInput = Double.nan
        for k in sectionStart[tj]..<sectionStart[tj + 1] {
          let statistics = (ti * slotCount + k) * 4
          // The same expression as a real slot's row with a zero raw row (bit-identical input).
          for c in 0..<4 {
            rows[statistics + c] = (0 - model.average[statistics + c]) / model.deviation[statistics + c]
          }
          let input = rows[statistics]
          if input != previousInput || k == sectionStart[tj] { run += 1 }
          previousInput = input
          runs[ti * slotCount + k] = run
          valueAndSlope.withUnsafeMutableBufferPointer { g in
            if let table = model.tables?[index] {
              table.evaluate(input, values: g.baseAddress!, slopes: g.baseAddress! + width)
            } else if let network = model.embeddings[index] {
              withUnsafePointer(to: input) { network.embed($0, rows: 1, into: g.baseAddress!, workspace: workspace) }
            } else {
              g.update(repeating: 0)
            }
          }
          for m in 0..<width { embeddings[(ti * slotCount + k) * width + m] = valueAndSlope[m] }
        }
      }
    }
    self.rows = rows
    self.embeddings = embeddings
    self.runs = runs
  }
}
