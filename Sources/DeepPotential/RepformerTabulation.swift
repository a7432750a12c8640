extension RepformerModel {
  /// The model with its repinit block's strip-mode radial network N(s) tabulated, as DeePMD-kit's
  /// `DescrptDPA2.enable_compression` tabulates it: the DPA-1 table of the repinit block
  /// (`AttentionModel.tabulated`, on its own statistics and cut-off). The three-body block and the
  /// repformer layers stay networks, as in DeePMD-kit.
  public func tabulated(_ settings: TabulationSettings) throws -> RepformerModel {
    guard case .strip = repinit.inputMode else {
      throw DeepPotentialError("\(path): compressing a DPA-2 model needs the repinit in tebd_input_mode strip: in "
        + "concat mode the type embedding is an input of the embedding network, which then has no one-variable table")
    }
    var model = self
    model.repinit = try repinit.tabulated(settings)
    return model
  }

  /// The distance of the repinit's radial table from its network, or nil without a table.
  public func tabulationReport() -> TabulationReport? { repinit.tabulationReport() }

  /// The training data's nearest neighbour distance (Å) when the file records it (`min_nbor_dist`).
  public var minNeighborDistance: Double? { repinit.minNeighborDistance }
}
