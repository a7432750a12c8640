/// What the document of every standard energy model holds beside its descriptor: the `model` node
/// and its type map (checked as DeePMD-kit 3.2 writes them: class `Model`, type `standard`,
/// @version 2, no spin), and the energy fitting with the model-level exclusions and output bias.
/// Read once by `ModelReader`, which hands it to the reader of the descriptor it names.
struct StandardModelDocument {
  let file: ModelFile
  let root: DocumentNode
  /// The `model` node.
  let node: DocumentNode
  let typeMap: [String]

  init(_ file: ModelFile) throws {
    self.file = file
    root = try file.rootNode()
    let model = root["model"]
    guard try model["@class"].string() == "Model" else { throw model["@class"].unsupported("a model class other than 'Model'") }
    let kind = try model["type"].string()
    guard kind == "standard" else { throw model["type"].unsupported("model type '\(kind)' (only 'standard')") }
    try model.checkVersion(2...2)
    let typeMap = try model["type_map"].strings()
    guard !typeMap.isEmpty else { throw DeepPotentialError("\(file.path): model.type_map: expected at least one element") }
    if !model["spin"].isNull { throw model["spin"].unsupported("a spin model") }
    node = model
    self.typeMap = typeMap
  }

  /// The fitting network for descriptors `descriptorWidth` wide, with the atom types the model
  /// excludes (its own and the fitting's), the excluded type pairs and the output bias.
  func fitting(descriptorWidth: Int) throws -> EnergyFitting {
    let n = typeMap.count
    let reader = ModelReader(file: file)
    let fitting = try Fitting(node["fitting"], typeCount: n, descriptorWidth: descriptorWidth)
    let atomExcluded = try reader.excludedTypes(node["atom_exclude_types"], typeCount: n)
    let fittingExcluded = try reader.excludedTypes(node["fitting"]["exclude_types"], typeCount: n)
    return EnergyFitting(
      pairExcluded: try node["pair_exclude_types"].typePairs(typeCount: n),
      atomExcluded: zip(atomExcluded, fittingExcluded).map { $0 || $1 }, fittings: fitting.networks,
      vacuumEnergy: fitting.vacuumEnergy, fittingBias: fitting.bias,
      outputBias: try reader.biasPerType(node["@variables"]["out_bias"], typeCount: n))
  }
}

/// A model's energy fitting and what decides which atoms and pairs it counts.
struct EnergyFitting {
  var pairExcluded: [Bool]
  var atomExcluded: [Bool]
  var fittings: [DenseNetwork]
  var vacuumEnergy: [Double]
  var fittingBias: [Double]
  var outputBias: [Double]
}

/// A descriptor model that carries its own energy fitting (DPA-1, se_e2_r/se_e3/se_e3_tebd).
protocol EnergyFitted {
  var pairExcluded: [Bool] { get set }
  var atomExcluded: [Bool] { get set }
  var fittings: [DenseNetwork] { get set }
  var vacuumEnergy: [Double] { get set }
  var fittingBias: [Double] { get set }
  var outputBias: [Double] { get set }
}

extension EnergyFitted {
  mutating func attach(_ f: EnergyFitting) {
    pairExcluded = f.pairExcluded
    atomExcluded = f.atomExcluded
    fittings = f.fittings
    vacuumEnergy = f.vacuumEnergy
    fittingBias = f.fittingBias
    outputBias = f.outputBias
  }
}

extension AttentionModel: EnergyFitted {}
extension ScalarDescriptorModel: EnergyFitted {}
