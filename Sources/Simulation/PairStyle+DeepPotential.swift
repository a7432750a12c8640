import Foundation
import DeepPotential
import DeepPotentialEngine
import InputDeck
import Potentials

/// `pair_style deepmd MODEL.dp [keywords]` as DeePMD-kit's LAMMPS plugin reads it.
struct DeepPotentialSettings: PairStyle {
  var model: DeepPotentialModel
  var overflowIsError = false
  var precision = NetworkPrecision.float64
  /// Precision of the further models of an ensemble (`devi_precision`); nil: the driving model's.
  /// Deviations need far less precision than the forces that drive the dynamics.
  var deviationPrecision: NetworkPrecision?
  /// Threads evaluating the model inside each rank (the deck's `threads N`); nil: the command
  /// line's `--threads` (`Simulation.modelThreads`).
  var threads: Int?
  /// Model type index per LAMMPS type (index 0 unused); identity until `pair_coeff` names elements.
  var modelTypes: [Int32]
  var coefficientsSet = false
  /// Further models of a deviation ensemble (`pair_style deepmd M1 M2 …`); the first drives the dynamics.
  var ensemble: [DeepPotentialModel] = []
  /// Further message-passing models, DPA-3 or DPA-2 (a distilled model's teachers), evaluated by their own evaluators.
  var messagePassingEnsemble: [DeviationModel] = []
  /// Every `outFrequency` steps the ensemble's deviation is appended to `outFile` (DeePMD-kit's defaults).
  var outFrequency = 100
  var outFile = "model_devi.out"
  var deviation = DeviationOptions()
}

extension Simulation {
  /// Keywords of DeePMD-kit's `pair_style deepmd` that Tessera does not implement yet; refused by name
  /// rather than silently ignored.
  static let unsupportedDeepPotentialKeywords: Set<String> = [
    "fparam_from_compute", "aparam_from_compute", "fparam_from_fix", "ttm", "virtual_len", "spin_norm",
  ]

  func deepPotentialStyle(_ c: Command) throws -> PairStyle {
    guard units.name == "metal" else { throw c.error("deepmd models need 'units metal' (Å, eV, ps), not \(units.name)") }
    let path = try c.word(1, "model file")
    // As DeePMD-kit's plugin: model files first, up to the first keyword.
    var paths = [path]
    while paths.count + 1 < c.arguments.count, Self.isModelFile(c.arguments[paths.count + 1]) {
      paths.append(c.arguments[paths.count + 1])
    }
    if RepflowModel.isDPA3(path: path) || RepformerModel.isDPA2(path: path) {
      return try messagePassingStyle(c, paths: paths)
    }
    let teacherPaths = paths.dropFirst().filter(DeviationModel.isMessagePassing)
    let standardPaths = paths.filter { !teacherPaths.contains($0) }
    let models: [DeepPotentialModel], teachers: [DeviationModel]
    do {
      models = try standardPaths.map { try DeepPotentialModel.load(path: $0) }
      teachers = try teacherPaths.map { try DeviationModel.load(path: $0) }
    } catch {
      throw c.error("\(error)")
    }
    let model = models[0]
    for (other, typeMap) in Array(zip(standardPaths, models.map(\.typeMap)).dropFirst()) + Array(zip(teacherPaths, teachers.map(\.typeMap))) {
      guard typeMap == model.typeMap else {
        throw c.error("\(other) has type map \(typeMap.joined(separator: " ")) but \(path) has \(model.typeMap.joined(separator: " ")); the models of an ensemble need the same type map")
      }
    }
    setup.modelChecksum = try fileChecksum(path, c)
    if let expected = expectedModelChecksum, expected != setup.modelChecksum {
      throw c.error("\(path) is not the model the restart was written with (checksum \(setup.modelChecksum!) instead of \(expected))")
    }
    var settings = DeepPotentialSettings(
      model: model, modelTypes: (0...masses.typeCount).map { Int32(max($0 - 1, 0)) })
    var tabulation: TabulationSettings?
    settings.ensemble = Array(models.dropFirst())
    settings.messagePassingEnsemble = teachers
    var frameParameters: [Double]?, atomParameters: [Double]?
    var reader = KeywordReader(c, from: paths.count + 1)
    while let key = reader.nextKeyword() {
      switch key {
      case "sel_overflow": settings.overflowIsError = try reader.choice(["error": true, "warn": false])
      // As DeePMD-kit's plugin: the values that follow (the model's count is checked below), the same for every atom.
      case "fparam": frameParameters = try Self.parameterValues(&reader)
      case "aparam": atomParameters = try Self.parameterValues(&reader)
      case "precision": settings.precision = try reader.choice(["float64": .float64, "float32": .float32])
      case "devi_precision": settings.deviationPrecision = try reader.choice(["float64": .float64, "float32": .float32])
      case "threads": settings.threads = try reader.positiveInteger("thread count")
      case _ where try readTabulation(key, into: &tabulation, &reader, c): break
      case "out_freq": settings.outFrequency = try reader.count("step count")
      case "out_file": settings.outFile = try reader.word("file name")
      case "atomic": settings.deviation.atomic = true
      case "relative": settings.deviation.relative = try reader.number("level ε (eV/Å or eV)", .nonNegative)
      case "relative_v": settings.deviation.relativeVirial = try reader.number("level ε (eV/Å or eV)", .nonNegative)
      case _ where Self.unsupportedDeepPotentialKeywords.contains(key):
        throw c.error("keyword '\(key)' of DeePMD-kit's pair_style deepmd is not supported by Tessera yet")
      default:
        throw reader.unknownKeyword("sel_overflow error|warn, fparam V…, aparam V…, precision float64|float32, devi_precision float64|float32, threads N, compress [stride S] [extrapolate X] [min_nbor_dist D], out_freq N, out_file FILE, atomic, relative E, relative_v E", "unknown keyword")
      }
    }
    do {
      if let teacher = teacherPaths.first, frameParameters != nil || atomParameters != nil {
        throw DeepPotentialError("fparam/aparam: \(teacher) is a \(teachers[0].messagePassingName!) model, which takes no fparam/aparam")
      }
      // DeePMD-kit's ensemble takes one fparam/aparam for all its models, which must agree on their counts.
      for (p, m) in zip(standardPaths, models).dropFirst()
      where (m.frameParameterCount, m.atomParameterCount) != (model.frameParameterCount, model.atomParameterCount) {
        throw DeepPotentialError("\(p) takes \(m.frameParameterCount) fparam and \(m.atomParameterCount) aparam values but "
          + "\(path) takes \(model.frameParameterCount) and \(model.atomParameterCount); the models of an ensemble need the same")
      }
      settings.model = try model.withParameters(frame: frameParameters, atom: atomParameters)
      settings.ensemble = try settings.ensemble.map { try $0.withParameters(frame: frameParameters, atom: atomParameters) }
    } catch {
      throw c.error("\(error)")
    }
    for (p, m) in zip(standardPaths, models).dropFirst() {
      console.line("Deep Potential deviation model \(p): rcut \(m.cutoff), sel \(m.selection)")
    }
    for (p, m) in zip(teacherPaths, teachers) {
      console.line("Deep Potential deviation model \(p): \(m.summary)")
    }
    if let teacher = teacherPaths.first, (settings.deviationPrecision ?? settings.precision) == .float32 {
      throw c.error("\(teacher) is a \(teachers[0].messagePassingName!) model, evaluated in float64 only: the further models of this ensemble cannot run in float32 (precision/devi_precision)")
    }
    console.line("Deep Potential model \(path): type map \(model.typeMap.joined(separator: " ")), rcut \(model.cutoff), sel \(model.selection)")
    if let values = settings.model.parameterValues {
      console.line("Deep Potential parameters: " + [("fparam", values.frame), ("aparam", values.atom)]
        .filter { !$0.1.isEmpty }.map { "\($0.0) \($0.1.map { "\($0)" }.joined(separator: " "))" }.joined(separator: ", ")
        + (frameParameters == nil && !values.frame.isEmpty ? " (the model's default_fparam)" : ""))
    }
    // DPA-1, se_e2_r, se_e3, se_e3_tebd and hybrid models are evaluated in float64 only: a float32 request must not
    // silently run in float64.
    if settings.precision == .float32,
       let index = ([model] + settings.ensemble).firstIndex(where: { $0.otherDescriptorName != nil }) {
      let name = ([model] + settings.ensemble)[index].otherDescriptorName!
      let kind = name == "DPA-1" ? "attention (DPA-1)" : name
      throw c.error("precision float32 is not supported for \(kind) models yet (\(standardPaths[index])); use precision float64")
    }
    if settings.deviationPrecision == .float32 {
      guard !settings.ensemble.isEmpty || !settings.messagePassingEnsemble.isEmpty else {
        throw c.error("devi_precision sets the precision of an ensemble's further models, but only one model is given")
      }
      if let index = settings.ensemble.firstIndex(where: \.isAttentionModel) {
        throw c.error("devi_precision float32 is not supported for attention (DPA-1) models yet (\(standardPaths[index + 1])); use devi_precision float64")
      }
    }
    if let tabulation {
      do {
        settings.model = try settings.model.tabulated(tabulation)
        // The deviation models are evaluated with the driving model's kernels: tabulated alike.
        settings.ensemble = try settings.ensemble.map { try $0.tabulated(tabulation) }
      } catch {
        throw c.error("\(error)")
      }
      let distance = tabulation.minNeighborDistance ?? model.minNeighborDistance!
      console.line("Deep Potential tables built at load (stride \(tabulation.stride), extrapolate \(tabulation.extrapolate), "
        + "min_nbor_dist \(distance)): \(settings.model.tabulationReport()!)")
      for (p, m) in zip(standardPaths.dropFirst(), settings.ensemble) {
        console.line("Deep Potential deviation model \(p) tables built at load (min_nbor_dist "
          + "\(tabulation.minNeighborDistance ?? m.minNeighborDistance!)): \(m.tabulationReport()!)")
      }
    } else if let report = model.tabulationReport() {
      console.line("Deep Potential tables read from the model file (dp compress): \(report)")
    }
    return settings
  }

  /// `compress [stride S] [extrapolate X] [min_nbor_dist D]`: whether `key` is one of these (then read).
  func readTabulation(_ key: String, into tabulation: inout TabulationSettings?, _ reader: inout KeywordReader,
                      _ c: Command) throws -> Bool {
    switch key {
    case "compress": tabulation = tabulation ?? TabulationSettings()
    case "stride", "extrapolate", "min_nbor_dist":
      guard tabulation != nil else { throw c.error("'\(key)' sets up the tables of 'compress'; put it after compress") }
      switch key {
      case "stride": tabulation!.stride = try reader.number("table step", .positive)
      case "extrapolate": tabulation!.extrapolate = try reader.number("extrapolation factor", .above(1))
      default: tabulation!.minNeighborDistance = try reader.number("distance (Å)", .positive)
      }
    default: return false
    }
    return true
  }

  /// The numbers after `fparam`/`aparam`, up to the next keyword.
  static func parameterValues(_ reader: inout KeywordReader) throws -> [Double] {
    var values = [Double]()
    while let word = reader.peek, parseNumber(word) != nil { values.append(try reader.double("parameter value")) }
    return values
  }

  static func isModelFile(_ word: String) -> Bool {
    [".dp", ".pb", ".pth", ".yaml", ".savedmodel"].contains { word.hasSuffix($0) }
  }

  /// The model file's identity in restarts: FNV-1a 64 of its bytes.
  func fileChecksum(_ path: String, _ c: Command) throws -> String {
    guard let data = FileManager.default.contents(atPath: path) else { throw c.error("cannot read \(path)") }
    return String(RestartFile.checksum(data), radix: 16)
  }
}

extension DeepPotentialSettings {
  /// `pair_coeff * * ELEMENT…` (`deepmdModelTypes`).
  mutating func coefficients(_ c: Command, _ simulation: Simulation) throws {
    modelTypes = try deepmdModelTypes(c, simulation, typeMap: model.typeMap)
    coefficientsSet = true
  }

  func makeForceField(_ c: Command, _ simulation: Simulation) throws -> ForceField {
    let settings = self, modelThreads = simulation.modelThreads
    guard settings.coefficientsSet else { throw c.error("pair_style deepmd needs 'pair_coeff * * ELEMENT…' before a run") }
    let further = settings.outFrequency > 0
      ? settings.ensemble.map(DeviationModel.standard) + settings.messagePassingEnsemble : []
    let force = DeepPotentialForce(model: settings.model, modelTypes: settings.modelTypes,
                                   overflowIsError: settings.overflowIsError, precision: settings.precision,
                                   threads: settings.threads ?? modelThreads, cutoff: further.map(\.cutoff).max())
    let model = settings.model
    var forceField = ForceField(potential: force, willCompute: { force.step = $0 })
    forceField.planDescription = ["model: type_map [\(model.typeMap.joined(separator: ", "))], rcut \(model.cutoff), "
      + "sel [\(model.selection.map(String.init).joined(separator: ", "))]"]
    if !further.isEmpty {
      let ensemble = DeviationEnsemble(driving: settings.model, models: further, every: settings.outFrequency,
                                       options: settings.deviation,
                                       precision: settings.deviationPrecision ?? settings.precision,
                                       threads: settings.threads ?? modelThreads)
      force.ensemble = ensemble
      let precisionNote = settings.deviationPrecision.flatMap { further in further == settings.precision ? nil
        : "# devi_precision \(further.rawValue): the further models in \(further.rawValue), the driving model in \(settings.precision.rawValue)" }
      forceField.recordDeviation(ensemble, isPending: { force.deviationPending }, to: settings.outFile, note: precisionNote,
                                 simulation)
    }
    return forceField
  }
}

/// `pair_coeff * * ELEMENT…` of `pair_style deepmd`: the model type of each LAMMPS type (index 0
/// unused; NULL: -1, not this potential), by name, as DeePMD-kit's plugin; a bare `pair_coeff * *`
/// maps type k to model type k−1.
func deepmdModelTypes(_ c: Command, _ simulation: Simulation, typeMap: [String]) throws -> [Int32] {
  let masses = simulation.masses
  guard c.arguments.count >= 2, c.arguments[0] == "*", c.arguments[1] == "*" else {
    throw c.error("expected 'pair_coeff * * ELEMENT…' for pair_style deepmd")
  }
  let elements = Array(c.arguments.dropFirst(2))
  var modelTypes = (0...masses.typeCount).map { Int32(max($0 - 1, 0)) }
  if elements.isEmpty {
    guard masses.typeCount <= typeMap.count else {
      throw c.error("\(masses.typeCount) atom types but the model knows only \(typeMap.count) elements (\(typeMap.joined(separator: ", "))); name them: pair_coeff * * ELEMENT…")
    }
    return modelTypes
  }
  guard elements.count == masses.typeCount else {
    throw c.error("expected \(masses.typeCount) element names (one per atom type), got \(elements.count)")
  }
  for (k, element) in elements.enumerated() {
    if element == "NULL" {
      modelTypes[k + 1] = -1
      continue
    }
    guard let index = typeMap.firstIndex(of: element) else {
      throw c.error("element '\(element)' is not in the model's type map (\(typeMap.joined(separator: ", ")))")
    }
    modelTypes[k + 1] = Int32(index)
  }
  return modelTypes
}
