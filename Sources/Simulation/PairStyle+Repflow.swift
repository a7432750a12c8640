import DeepPotential
import DeepPotentialEngine
import InputDeck

/// `pair_style deepmd MODEL.dp [sel_overflow error|warn]` with a DPA-3 model (`RepflowForce`).
/// What the DPA-3 path does not implement yet is refused by keyword: deviation ensembles,
/// `precision float32`, `threads`, `compress`.
struct RepflowSettings: PairStyle {
  var model: RepflowModel
  var overflowIsError = false
  var modelTypes: [Int32]
  var coefficientsSet = false

  mutating func coefficients(_ c: Command, _ simulation: Simulation) throws {
    modelTypes = try deepmdModelTypes(c, simulation, typeMap: model.typeMap)
    coefficientsSet = true
  }

  func makeForceField(_ c: Command, _ simulation: Simulation) throws -> ForceField {
    guard coefficientsSet else { throw c.error("pair_style deepmd needs 'pair_coeff * * ELEMENT…' before a run") }
    let force = RepflowForce(model: model, modelTypes: modelTypes, overflowIsError: overflowIsError)
    var forceField = ForceField(potential: force, willCompute: { _ in })
    forceField.planDescription = ["model: DPA-3, type_map [\(model.typeMap.joined(separator: ", "))], e_rcut \(model.cutoff), "
      + "e_sel \(model.selection), \(model.layerCount) repflow layers (node features exchanged with the ghosts per layer)"]
    return forceField
  }
}

extension Simulation {
  func repflowStyle(_ c: Command, path: String, modelCount: Int) throws -> PairStyle {
    guard modelCount == 1 else {
      throw c.error("\(path) is a DPA-3 model: deviation ensembles (several model files) are not supported for DPA-3 yet")
    }
    let model: RepflowModel
    do {
      model = try RepflowModel.load(path: path)
    } catch {
      throw c.error("\(error)")
    }
    setup.modelChecksum = try fileChecksum(path, c)
    if let expected = expectedModelChecksum, expected != setup.modelChecksum {
      throw c.error("\(path) is not the model the restart was written with (checksum \(setup.modelChecksum!) instead of \(expected))")
    }
    var settings = RepflowSettings(model: model, modelTypes: (0...masses.typeCount).map { Int32(max($0 - 1, 0)) })
    var reader = KeywordReader(c, from: 2)
    while let key = reader.nextKeyword() {
      switch key {
      case "sel_overflow": settings.overflowIsError = try reader.choice(["error": true, "warn": false])
      case "precision", "threads", "compress", "out_freq", "out_file", "atomic", "relative", "relative_v":
        throw c.error("keyword '\(key)' of pair_style deepmd is not supported for DPA-3 models yet (\(path))")
      case _ where Self.unsupportedDeepPotentialKeywords.contains(key):
        throw c.error("keyword '\(key)' of DeePMD-kit's pair_style deepmd is not supported by Tessera yet")
      default:
        throw reader.unknownKeyword("sel_overflow error|warn", "unknown keyword")
      }
    }
    console.line("Deep Potential model \(path): DPA-3, type map \(model.typeMap.joined(separator: " ")), e_rcut \(model.cutoff), e_sel \(model.selection), a_rcut \(model.angleCutoff), \(model.layerCount) layers")
    return settings
  }
}
