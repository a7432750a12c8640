extension AttentionModel {
  /// The model with its strip-mode radial network N(s) replaced by one table built as DeePMD-kit's
  /// `DPTabulate` builds the DPA-1 table (descriptor type "Atten": one table for every type pair,
  /// on s from the floor of the smallest −avg/std to the ceiling of the largest
  /// (s(r_min)/r_min − avg)/std over every type and the four components of the first neighbour
  /// slot). DeePMD-kit tabulates only models without attention layers; the table is the same in
  /// front of attention layers, which then see G = N(s)(1 + f) from it.
  func tabulated(_ settings: TabulationSettings) throws -> AttentionModel {
    guard case .strip(let network, _) = inputMode else {
      throw DeepPotentialError("\(path): tabulating a DPA-1 embedding (compress) needs tebd_input_mode strip: in "
        + "concat mode the type embedding is an input of the embedding network, which then has no one-variable table")
    }
    guard let distance = settings.minNeighborDistance ?? minNeighborDistance else {
      throw DeepPotentialError("\(path): the model does not record min_nbor_dist (the training data's nearest "
        + "neighbour distance, which dp compress takes from the training data); give it: compress min_nbor_dist D")
    }
    guard distance > 0, settings.stride > 0, settings.extrapolate > 1 else {
      throw DeepPotentialError("\(path): tabulation needs min_nbor_dist > 0, stride > 0 and extrapolate > 1 "
        + "(got \(distance), \(settings.stride), \(settings.extrapolate))")
    }
    let sw = smoothSwitch(distance, smoothingStart: smoothingStart, cutoff: cutoff).value
    var lower = Double.infinity, upper = -Double.infinity
    for t in 0..<typeCount {
      for c in 0..<4 {
        let avg = average[t * selection * 4 + c], std = deviation[t * selection * 4 + c]
        lower = min(lower, (-avg / std).rounded(.down))
        upper = max(upper, (((1 / distance) * sw - avg) / std).rounded(.up))
      }
    }
    var model = self
    model.radialTable = try EmbeddingTable.tabulate(network, lower: lower, upper: upper, settings: settings, model: path)
    return model
  }

  /// The distance of the radial table from the network, or nil without a table.
  func tabulationReport() -> TabulationReport? {
    guard let table = radialTable, case .strip(let network, _) = inputMode else { return nil }
    let error = table.distance(from: network)
    return TabulationReport(tableCount: 1, checkedCount: 1, intervalCount: table.intervalCount,
                            range: table.lower...table.maximum, valueError: error.value, slopeError: error.slope)
  }
}
