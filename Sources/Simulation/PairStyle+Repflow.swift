import DeepPotential
import DeepPotentialEngine
import InputDeck

/// `pair_style deepmd MODEL.dp [FURTHER.dp …] [keywords]` with a DPA-3 driving model
/// (`RepflowForce`). Further models — DPA-3 or any other descriptor, each with its own cut-off —
/// make a deviation ensemble as for other models (`out_freq`, `out_file`, `atomic`, `relative`,
/// `relative_v`); what the DPA-3 path does not implement is refused by keyword: `precision float32`,
/// `devi_precision`, `threads`, `compress`.
struct RepflowSettings: PairStyle {
  var model: RepflowModel
  var overflowIsError = false
  var modelTypes: [Int32]
  var coefficientsSet = false
  var ensemble: [DeviationModel] = []
  var outFrequency = 100
  var outFile = "model_devi.out"
  var deviation = DeviationOptions()

  mutating func coefficients(_ c: Command, _ simulation: Simulation) throws {
    modelTypes = try deepmdModelTypes(c, simulation, typeMap: model.typeMap)
    coefficientsSet = true
  }

  func makeForceField(_ c: Command, _ simulation: Simulation) throws -> ForceField {
    guard coefficientsSet else { throw c.error("pair_style deepmd needs 'pair_coeff * * ELEMENT…' before a run") }
    let further = outFrequency > 0 ? ensemble : []
    let force = RepflowForce(model: model, modelTypes: modelTypes, overflowIsError: overflowIsError,
                             cutoff: further.map(\.cutoff).max())
    var forceField = ForceField(potential: force, willCompute: { force.step = $0 })
    forceField.planDescription = ["model: DPA-3, type_map [\(model.typeMap.joined(separator: ", "))], e_rcut \(model.cutoff), "
      + "e_sel \(model.selection), \(model.layerCount) repflow layers (node features exchanged with the ghosts per layer)"]
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
  func repflowStyle(_ c: Command, paths: [String]) throws -> PairStyle {
    let path = paths[0]
    let model: RepflowModel, further: [DeviationModel]
    do {
      model = try RepflowModel.load(path: path)
      further = try paths.dropFirst().map { try DeviationModel.load(path: $0) }
    } catch {
      throw c.error("\(error)")
    }
    for (other, m) in zip(paths.dropFirst(), further) where m.typeMap != model.typeMap {
      throw c.error("\(other) has type map \(m.typeMap.joined(separator: " ")) but \(path) has \(model.typeMap.joined(separator: " ")); the models of an ensemble need the same type map")
    }
    setup.modelChecksum = try fileChecksum(path, c)
    if let expected = expectedModelChecksum, expected != setup.modelChecksum {
      throw c.error("\(path) is not the model the restart was written with (checksum \(setup.modelChecksum!) instead of \(expected))")
    }
    var settings = RepflowSettings(model: model, modelTypes: (0...masses.typeCount).map { Int32(max($0 - 1, 0)) })
    settings.ensemble = further
    var reader = KeywordReader(c, from: paths.count + 1)
    while let key = reader.nextKeyword() {
      switch key {
      case "sel_overflow": settings.overflowIsError = try reader.choice(["error": true, "warn": false])
      case "out_freq": settings.outFrequency = try reader.count("step count")
      case "out_file": settings.outFile = try reader.word("file name")
      case "atomic": settings.deviation.atomic = true
      case "relative": settings.deviation.relative = try reader.number("level ε (eV/Å or eV)", .nonNegative)
      case "relative_v": settings.deviation.relativeVirial = try reader.number("level ε (eV/Å or eV)", .nonNegative)
      case "precision", "devi_precision", "threads", "compress":
        throw c.error("keyword '\(key)' of pair_style deepmd is not supported for DPA-3 models yet (\(path))")
      case _ where Self.unsupportedDeepPotentialKeywords.contains(key):
        throw c.error("keyword '\(key)' of DeePMD-kit's pair_style deepmd is not supported by Tessera yet")
      default:
        throw reader.unknownKeyword("sel_overflow error|warn, out_freq N, out_file FILE, atomic, relative E, relative_v E",
                                    "unknown keyword")
      }
    }
    for (p, m) in zip(paths.dropFirst(), further) { console.line("Deep Potential deviation model \(p): \(m.summary)") }
    console.line("Deep Potential model \(path): DPA-3, type map \(model.typeMap.joined(separator: " ")), e_rcut \(model.cutoff), e_sel \(model.selection), a_rcut \(model.angleCutoff), \(model.layerCount) layers")
    return settings
  }
}
