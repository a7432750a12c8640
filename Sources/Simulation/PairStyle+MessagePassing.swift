import DeepPotential
import DeepPotentialEngine
import InputDeck

/// `pair_style deepmd MODEL.dp [FURTHER.dp …] [keywords]` with a message-passing driving model,
/// DPA-3 or DPA-2 (`MessagePassingForce`). Further models — DPA-3, DPA-2 or any other descriptor,
/// each with its own cut-off — make a deviation ensemble as for other models (`out_freq`,
/// `out_file`, `atomic`, `relative`, `relative_v`). A DPA-2 driving model takes `compress [stride S]
/// [extrapolate X] [min_nbor_dist D]` (its repinit tabulated at load; further models stay as they
/// are). What these paths do not implement is refused by keyword: `precision float32`,
/// `devi_precision`, `threads`, and `compress` for DPA-3.
struct MessagePassingSettings: PairStyle {
  var evaluator: MessagePassingEvaluator
  let typeMap: [String]
  let plan: String
  var overflowIsError = false
  var modelTypes: [Int32]
  var coefficientsSet = false
  var ensemble: [DeviationModel] = []
  var outFrequency = 100
  var outFile = "model_devi.out"
  var deviation = DeviationOptions()

  mutating func coefficients(_ c: Command, _ simulation: Simulation) throws {
    modelTypes = try deepmdModelTypes(c, simulation, typeMap: typeMap)
    coefficientsSet = true
  }

  func makeForceField(_ c: Command, _ simulation: Simulation) throws -> ForceField {
    guard coefficientsSet else { throw c.error("pair_style deepmd needs 'pair_coeff * * ELEMENT…' before a run") }
    let further = outFrequency > 0 ? ensemble : []
    let force = MessagePassingForce(evaluator: evaluator, modelTypes: modelTypes, overflowIsError: overflowIsError,
                                    cutoff: further.map(\.cutoff).max())
    var forceField = ForceField(potential: force, willCompute: { force.step = $0 })
    forceField.planDescription = [plan]
    if !further.isEmpty {
      let ensemble = DeviationEnsemble(driving: nil, models: further, every: outFrequency, options: deviation,
                                       precision: .float64, threads: simulation.modelThreads)
      force.ensemble = ensemble
      forceField.recordDeviation(ensemble, isPending: { force.deviationPending }, to: outFile, note: nil, simulation)
    }
    return forceField
  }
}

extension ForceField {
  /// An ensemble's statistics folded after the driving model's ghost forces (on the steps its
  /// force evaluated the further models) and written by rank 0 to `path`.
  mutating func recordDeviation(_ ensemble: DeviationEnsemble, isPending: @escaping () -> Bool, to path: String,
                                note: String?, _ simulation: Simulation) {
    didFoldForces = { step, atoms, halo, comm in
      if isPending() { ensemble.record(step: step, atoms: atoms, halo: halo, comm: comm) }
    }
    writers = [ModelDeviationWriter(path: path, ensemble: ensemble, note: note, writesFile: simulation.comm.rank == 0)]
  }
}

extension Simulation {
  /// DPA-3 and DPA-2 driving models, per-layer ghost exchange, with further models of any kind.
  func messagePassingStyle(_ c: Command, paths: [String]) throws -> PairStyle {
    let path = paths[0]
    let name = RepformerModel.isDPA2(path: path) ? "DPA-2" : "DPA-3"
    let evaluator: MessagePassingEvaluator, typeMap: [String], plan: String, summary: String
    let further: [DeviationModel]
    var repformer: RepformerModel?
    do {
      if name == "DPA-2" {
        let model = try RepformerModel.load(path: path)
        repformer = model
        evaluator = RepformerEvaluator(model: model)
        typeMap = model.typeMap
        plan = "model: DPA-2, type_map [\(typeMap.joined(separator: ", "))], rcut \(model.listCutoff), sel "
          + "\(model.listSelection), \(model.layerCount) repformer layers (g1 exchanged with the ghosts per layer)"
        summary = "DPA-2, type map \(typeMap.joined(separator: " ")), repinit rcut \(model.listCutoff), nsel \(model.listSelection), repformer rcut \(model.cutoff), nsel \(model.selection), \(model.layerCount) layers"
      } else {
        let model = try RepflowModel.load(path: path)
        evaluator = RepflowEvaluator(model: model)
        typeMap = model.typeMap
        plan = "model: DPA-3, type_map [\(typeMap.joined(separator: ", "))], e_rcut \(model.cutoff), "
          + "e_sel \(model.selection), \(model.layerCount) repflow layers (node features exchanged with the ghosts per layer)"
        summary = "DPA-3, type map \(typeMap.joined(separator: " ")), e_rcut \(model.cutoff), e_sel \(model.selection), a_rcut \(model.angleCutoff), \(model.layerCount) layers"
      }
      further = try paths.dropFirst().map { try DeviationModel.load(path: $0) }
    } catch {
      throw c.error("\(error)")
    }
    for (other, m) in zip(paths.dropFirst(), further) where m.typeMap != typeMap {
      throw c.error("\(other) has type map \(m.typeMap.joined(separator: " ")) but \(path) has \(typeMap.joined(separator: " ")); the models of an ensemble need the same type map")
    }
    setup.modelChecksum = try fileChecksum(path, c)
    if let expected = expectedModelChecksum, expected != setup.modelChecksum {
      throw c.error("\(path) is not the model the restart was written with (checksum \(setup.modelChecksum!) instead of \(expected))")
    }
    var settings = MessagePassingSettings(evaluator: evaluator, typeMap: typeMap, plan: plan,
                                          modelTypes: (0...masses.typeCount).map { Int32(max($0 - 1, 0)) })
    settings.ensemble = further
    var tabulation: TabulationSettings?
    var reader = KeywordReader(c, from: paths.count + 1)
    while let key = reader.nextKeyword() {
      switch key {
      case "sel_overflow": settings.overflowIsError = try reader.choice(["error": true, "warn": false])
      case _ where try name == "DPA-2" && readTabulation(key, into: &tabulation, &reader, c): break
      case "out_freq": settings.outFrequency = try reader.count("step count")
      case "out_file": settings.outFile = try reader.word("file name")
      case "atomic": settings.deviation.atomic = true
      case "relative": settings.deviation.relative = try reader.number("level ε (eV/Å or eV)", .nonNegative)
      case "relative_v": settings.deviation.relativeVirial = try reader.number("level ε (eV/Å or eV)", .nonNegative)
      case "precision", "devi_precision", "threads", "compress", "fparam", "aparam":
        throw c.error("keyword '\(key)' of pair_style deepmd is not supported for \(name) models yet (\(path))")
      case _ where Self.unsupportedDeepPotentialKeywords.contains(key):
        throw c.error("keyword '\(key)' of DeePMD-kit's pair_style deepmd is not supported by Tessera yet")
      default:
        throw reader.unknownKeyword("sel_overflow error|warn, out_freq N, out_file FILE, atomic, relative E, relative_v E"
                                      + (name == "DPA-2" ? ", compress [stride S] [extrapolate X] [min_nbor_dist D]" : ""),
                                    "unknown keyword")
      }
    }
    for (p, m) in zip(paths.dropFirst(), further) { console.line("Deep Potential deviation model \(p): \(m.summary)") }
    console.line("Deep Potential model \(path): \(summary)")
    if let tabulation, let model = repformer {
      let tabulated: RepformerModel
      do { tabulated = try model.tabulated(tabulation) } catch { throw c.error("\(error)") }
      settings.evaluator = RepformerEvaluator(model: tabulated)
      let distance = tabulation.minNeighborDistance ?? model.minNeighborDistance!
      console.line("Deep Potential tables built at load for the DPA-2 repinit (stride \(tabulation.stride), extrapolate "
        + "\(tabulation.extrapolate), min_nbor_dist \(distance)): \(tabulated.tabulationReport()!)")
    } else if let report = repformer?.tabulationReport() {
      console.line("Deep Potential tables read from the model file (dp compress) for the DPA-2 repinit: \(report)")
    }
    return settings
  }
}
