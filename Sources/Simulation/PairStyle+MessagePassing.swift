import DeepPotential
import DeepPotentialEngine
import InputDeck

/// `pair_style deepmd MODEL.dp [sel_overflow error|warn]` with a message-passing model, DPA-3 or
/// DPA-2 (`MessagePassingForce`). What these paths do not implement yet is refused by keyword:
/// deviation ensembles, `precision float32`, `threads`, `compress`.
struct MessagePassingSettings: PairStyle {
  let evaluator: MessagePassingEvaluator
  let typeMap: [String]
  let plan: String
  var overflowIsError = false
  var modelTypes: [Int32]
  var coefficientsSet = false

  mutating func coefficients(_ c: Command, _ simulation: Simulation) throws {
    modelTypes = try deepmdModelTypes(c, simulation, typeMap: typeMap)
    coefficientsSet = true
  }

  func makeForceField(_ c: Command, _ simulation: Simulation) throws -> ForceField {
    guard coefficientsSet else { throw c.error("pair_style deepmd needs 'pair_coeff * * ELEMENT…' before a run") }
    let force = MessagePassingForce(evaluator: evaluator, modelTypes: modelTypes, overflowIsError: overflowIsError)
    var forceField = ForceField(potential: force, willCompute: { _ in })
    forceField.planDescription = [plan]
    return forceField
  }
}

extension Simulation {
  /// DPA-3 and DPA-2 models: one model file, per-layer ghost exchange.
  func messagePassingStyle(_ c: Command, path: String, modelCount: Int) throws -> PairStyle {
    let name = RepformerModel.isDPA2(path: path) ? "DPA-2" : "DPA-3"
    guard modelCount == 1 else {
      throw c.error("\(path) is a \(name) model: deviation ensembles (several model files) are not supported for \(name) yet")
    }
    let evaluator: MessagePassingEvaluator, typeMap: [String], plan: String, summary: String
    do {
      if name == "DPA-2" {
        let model = try RepformerModel.load(path: path)
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
    } catch {
      throw c.error("\(error)")
    }
    setup.modelChecksum = try fileChecksum(path, c)
    if let expected = expectedModelChecksum, expected != setup.modelChecksum {
      throw c.error("\(path) is not the model the restart was written with (checksum \(setup.modelChecksum!) instead of \(expected))")
    }
    var settings = MessagePassingSettings(evaluator: evaluator, typeMap: typeMap, plan: plan,
                                          modelTypes: (0...masses.typeCount).map { Int32(max($0 - 1, 0)) })
    var reader = KeywordReader(c, from: 2)
    while let key = reader.nextKeyword() {
      switch key {
      case "sel_overflow": settings.overflowIsError = try reader.choice(["error": true, "warn": false])
      case "precision", "threads", "compress", "out_freq", "out_file", "atomic", "relative", "relative_v":
        throw c.error("keyword '\(key)' of pair_style deepmd is not supported for \(name) models yet (\(path))")
      case _ where Self.unsupportedDeepPotentialKeywords.contains(key):
        throw c.error("keyword '\(key)' of DeePMD-kit's pair_style deepmd is not supported by Tessera yet")
      default:
        throw reader.unknownKeyword("sel_overflow error|warn", "unknown keyword")
      }
    }
    console.line("Deep Potential model \(path): \(summary)")
    return settings
  }
}
