/// Turns the `.dp` document into a `DeepPotentialModel`, with the load-time checks of spec §1.7.
struct ModelReader {
  let file: ModelFile

  func model() throws -> DeepPotentialModel {
    let document = try StandardModelDocument(file)
    let root = document.root, model = document.node, typeMap = document.typeMap
    let n = typeMap.count
    if case .string(let type) = model["descriptor"]["type"].value, AttentionModelReader.descriptorTypes.contains(type) {
      return DeepPotentialModel(wrapping: try AttentionModelReader(file: file).model(document))
    }
    if case .string(let type) = model["descriptor"]["type"].value, ScalarDescriptorReader.descriptorTypes.contains(type) {
      return DeepPotentialModel(wrapping: try ScalarDescriptorReader(file: file).model(document))
    }
    if case .string("hybrid") = model["descriptor"]["type"].value {
      return DeepPotentialModel(wrapping: try HybridModelReader(file: file).model(document))
    }
    if case .string("dpa2") = model["descriptor"]["type"].value {
      // RepformerModel reads it for pair_style deepmd (one model) and tessera eval; not for ensembles yet.
      throw model["descriptor"]["type"].unsupported("a DPA-2 model (dpa2) in a model deviation ensemble (pair_style deepmd and tessera eval take one DPA-2 model)")
    }
    if case .string("dpa3") = model["descriptor"]["type"].value {
      // RepflowModel reads it (RepflowModel.isDPA3 routes pair_style deepmd and tessera eval there).
      throw model["descriptor"]["type"].unsupported("a DPA-3 model (dpa3) here: RepflowModel.load reads it")
    }

    let descriptor = try AngularDescriptor(model["descriptor"], typeCount: n)
    let fitting = model["fitting"]
    let fit = try Fitting(fitting, typeCount: n, descriptorWidth: descriptor.embeddingWidth * descriptor.axisCount,
                          takesParameters: true)

    let outputBias = try biasPerType(model["@variables"]["out_bias"], typeCount: n)
    let atomExcluded = try excludedTypes(model["atom_exclude_types"], typeCount: n)
    let fittingExcluded = try excludedTypes(fitting["exclude_types"], typeCount: n)
    return DeepPotentialModel(
      path: file.path, typeMap: typeMap, cutoff: descriptor.cutoff, smoothingStart: descriptor.smoothingStart,
      selection: descriptor.selection, protection: descriptor.protection, average: descriptor.average,
      deviation: descriptor.deviation, typeOneSide: descriptor.typeOneSide, embeddings: descriptor.embeddings,
      tables: descriptor.tables, descriptorExcluded: descriptor.excluded,
      pairExcluded: try model["pair_exclude_types"].typePairs(typeCount: n),
      atomExcluded: zip(atomExcluded, fittingExcluded).map { $0 || $1 },
      embeddingWidth: descriptor.embeddingWidth, axisCount: descriptor.axisCount, fittings: fit.networks,
      vacuumEnergy: fit.vacuumEnergy, fittingBias: fit.bias, outputBias: outputBias,
      minNeighborDistance: root["min_nbor_dist"].isNull ? nil : try root["min_nbor_dist"].double(),
      parameters: fit.parameters)
  }

  /// `out_bias` is [n_out, ntypes, 1] for an energy model; absent means zero.
  func biasPerType(_ node: DocumentNode, typeCount n: Int) throws -> [Double] {
    guard let bias = try node.array() else { return [Double](repeating: 0, count: n) }
    guard bias.shape.count >= 2, bias.shape[bias.shape.count - 2] == n || bias.shape[0] == n,
          bias.values.count == n || bias.values.count % n == 0 else {
      throw DeepPotentialError("\(file.path): \(node.keyPath): expected shape [1, \(n), 1], found \(bias.shape)")
    }
    guard bias.values.count == n else {
      throw node.unsupported("an output bias with more than one component per type (shape \(bias.shape))")
    }
    return bias.values
  }

  func excludedTypes(_ node: DocumentNode, typeCount n: Int) throws -> [Bool] {
    var excluded = [Bool](repeating: false, count: n)
    if node.isNull { return excluded }
    for t in try node.ints() {
      guard (0..<n).contains(t) else {
        throw DeepPotentialError("\(file.path): \(node.keyPath): type \(t) is not below \(n)")
      }
      excluded[t] = true
    }
    return excluded
  }
}

/// The se_e2_a descriptor section (spec §1.4).
struct AngularDescriptor {
  let cutoff, smoothingStart, protection: Double
  let selection: [Int]
  let average, deviation: [Double]
  let typeOneSide: Bool
  let embeddings: [DenseNetwork?]
  let tables: [EmbeddingTable?]?
  let excluded: [Bool]
  let embeddingWidth, axisCount: Int

  init(_ node: DocumentNode, typeCount n: Int) throws {
    let path = node.file.path
    let type = try node["type"].string()
    guard type == "se_e2_a" || type == "se_a" else {
      throw node["type"].unsupported("descriptor '\(type)' (se_e2_a, se_e2_r, se_e3, dpa1, se_atten, se_atten_v2 and hybrid are)")
    }
    try node.checkVersion(1...3)
    if !node["spin"].isNull { throw node["spin"].unsupported("a spin descriptor") }
    cutoff = try node["rcut"].double()
    smoothingStart = try node["rcut_smth"].double()
    guard cutoff > 0, smoothingStart >= 0, smoothingStart < cutoff else {
      throw DeepPotentialError("\(path): model.descriptor: expected 0 <= rcut_smth < rcut, found \(smoothingStart) and \(cutoff)")
    }
    protection = node["env_protection"].isNull ? 0 : try node["env_protection"].double()
    selection = try node["sel"].ints()
    guard selection.count == n, selection.allSatisfy({ $0 >= 0 }), selection.reduce(0, +) > 0 else {
      throw DeepPotentialError("\(path): model.descriptor.sel: expected \(n) non-negative counts (one per type), found \(selection)")
    }
    let slots = selection.reduce(0, +)
    let precision = node["precision"].isNull ? "float64" : try node["precision"].string()
    guard ["float64", "double", "default"].contains(precision) else {
      throw node["precision"].unsupported("descriptor precision '\(precision)' (float64 models only)")
    }
    average = try node["@variables"]["davg"].requiredArray(shape: [n, slots, 4]).values
    deviation = try node["@variables"]["dstd"].requiredArray(shape: [n, slots, 4]).values
    guard deviation.allSatisfy({ $0 != 0 }) else {
      throw DeepPotentialError("\(path): model.descriptor.@variables.dstd: contains zeros")
    }
    typeOneSide = try node["type_one_side"].bool()
    excluded = try node["exclude_types"].typePairs(typeCount: n)
    axisCount = try node["axis_neuron"].int()

    let collection = node["embeddings"]
    let dimensions = try collection["ndim"].int()
    guard dimensions == (typeOneSide ? 1 : 2) else {
      throw DeepPotentialError("\(path): \(collection.keyPath).ndim: expected \(typeOneSide ? 1 : 2) for type_one_side \(typeOneSide), found \(dimensions)")
    }
    let networks = try collection["networks"].list()
    let expected = typeOneSide ? n : n * n
    guard networks.count == expected else {
      throw DeepPotentialError("\(path): \(collection.keyPath).networks: expected \(expected) networks, found \(networks.count)")
    }
    embeddings = try networks.map { $0.isNull ? nil : try DenseNetwork.load($0, inputWidth: 1, outputWidth: nil) }
    guard let width = embeddings.compactMap({ $0?.outputWidth }).first,
          embeddings.allSatisfy({ $0 == nil || $0!.outputWidth == width }) else {
      throw DeepPotentialError("\(path): \(collection.keyPath): embedding networks must exist and share one output width")
    }
    embeddingWidth = width
    guard axisCount > 0, axisCount <= width else {
      throw DeepPotentialError("\(path): model.descriptor.axis_neuron: expected 1...\(width), found \(axisCount)")
    }
    let compress = node["compress"]
    tables = compress.isNull ? nil
      : try EmbeddingTable.loadAll(compress["@variables"], count: expected, width: width)
    // Every network a centre can reach must exist (nets for excluded pairs may be absent).
    for centre in 0..<n {
      for neighbor in 0..<n {
        let index = typeOneSide ? neighbor : centre + n * neighbor
        if embeddings[index] == nil && (tables?[index] == nil) && selection[neighbor] > 0 {
          throw DeepPotentialError("\(path): \(collection.keyPath).networks[\(index)]: missing network for types (\(centre), \(neighbor))")
        }
      }
    }
  }
}

/// The energy fitting section (spec §1.6).
struct Fitting {
  let networks: [DenseNetwork]
  let bias: [Double]
  let vacuumEnergy: [Double]
  /// numb_fparam/numb_aparam inputs (then `networks` take them too, until `withParameters` folds them).
  let parameters: FittingParameters?

  /// `takesParameters`: whether the caller's evaluator runs numb_fparam/numb_aparam fittings (se_e2_a's does).
  init(_ node: DocumentNode, typeCount n: Int, descriptorWidth: Int, takesParameters: Bool = false) throws {
    let path = node.file.path
    let type = try node["type"].string()
    guard type == "ener" else { throw node["type"].unsupported("fitting '\(type)' (only energy models, 'ener')") }
    try node.checkVersion(1...4)
    if !node["spin"].isNull { throw node["spin"].unsupported("a spin fitting") }
    if !node["dim_case_embd"].isNull, try node["dim_case_embd"].int() != 0 {
      throw node["dim_case_embd"].unsupported("dim_case_embd > 0 (a multi-task model's case embedding)")
    }
    func count(_ key: String) throws -> Int {
      let value = node[key].isNull ? 0 : try node[key].int()
      guard value >= 0 else { throw DeepPotentialError("\(path): \(node[key].keyPath): expected a count, found \(value)") }
      if value > 0 && !takesParameters { throw node[key].unsupported("\(key) > 0 with this descriptor (se_e2_a models only)") }
      return value
    }
    let frameCount = try count("numb_fparam"), atomCount = try count("numb_aparam")
    if !node["use_aparam_as_mask"].isNull, try node["use_aparam_as_mask"].bool() {
      throw node["use_aparam_as_mask"].unsupported("use_aparam_as_mask")
    }
    let precision = node["precision"].isNull ? "default" : try node["precision"].string()
    guard ["float64", "double", "default"].contains(precision) else {
      throw node["precision"].unsupported("fitting precision '\(precision)' (float64 models only)")
    }
    if !node["dim_descrpt"].isNull, try node["dim_descrpt"].int() != descriptorWidth {
      throw DeepPotentialError("\(path): \(node.keyPath).dim_descrpt: expected \(descriptorWidth) (axis_neuron × embedding width)")
    }
    let mixed = node["mixed_types"].isNull ? false : try node["mixed_types"].bool()
    let collection = node["nets"]
    let list = try collection["networks"].list()
    guard list.count == (mixed ? 1 : n) else {
      throw DeepPotentialError("\(path): \(collection.keyPath).networks: expected \(mixed ? 1 : n) networks, found \(list.count)")
    }
    let inputWidth = descriptorWidth + frameCount + atomCount
    let loaded = try list.map { network in
      do { return try DenseNetwork.load(network, inputWidth: inputWidth, outputWidth: 1) } catch let error where inputWidth > descriptorWidth {
        throw DeepPotentialError("\(error) (descriptor \(descriptorWidth) + numb_fparam \(frameCount) + numb_aparam \(atomCount))")
      }
    }
    networks = mixed ? Array(repeating: loaded[0], count: n) : loaded
    let biasNode = node["@variables"]["bias_atom_e"]
    bias = try biasNode.array().map { stored in
      guard stored.values.count == n else {
        throw DeepPotentialError("\(path): \(biasNode.keyPath): expected shape [\(n), 1], found \(stored.shape)")
      }
      return stored.values
    } ?? [Double](repeating: 0, count: n)
    // atom_ener: y − net(0 descriptor); without fparam/aparam that subtrahend is a constant per type.
    var vacuumTypes = [Bool](repeating: false, count: n)
    let atomEnergy = node["atom_ener"]
    if !atomEnergy.isNull {
      let entries = try atomEnergy.list()
      let anySet = entries.contains { !$0.isNull }
      for t in 0..<n where anySet && (mixed || (t < entries.count && !entries[t].isNull)) { vacuumTypes[t] = true }
    }
    if frameCount + atomCount == 0 {
      parameters = nil
      vacuumEnergy = zip(networks, vacuumTypes).map { $1 ? $0.valueAtZero() : 0 }
      return
    }
    let variables = node["@variables"]
    func statistics(_ key: String, _ count: Int) throws -> [Double] {
      count == 0 ? [] : try variables[key].requiredArray(shape: [count]).values
    }
    let defaultNode = node["default_fparam"]
    parameters = try FittingParameters(
      frameCount: frameCount, atomCount: atomCount, frameAverage: try statistics("fparam_avg", frameCount),
      frameInverseDeviation: try statistics("fparam_inv_std", frameCount),
      atomAverage: try statistics("aparam_avg", atomCount), atomInverseDeviation: try statistics("aparam_inv_std", atomCount),
      defaultFrame: defaultNode.isNull ? nil : try defaultNode.list().map { try $0.double() },
      networks: networks, vacuumTypes: vacuumTypes, location: "\(path): \(node.keyPath)")
    vacuumEnergy = [Double](repeating: 0, count: n)  // at the parameters' values: `withParameters`
  }
}

extension DenseNetwork {
  /// The output for an all-zero input row.
  func valueAtZero() -> Double {
    let zeros = [Double](repeating: 0, count: inputWidth)
    var output = 0.0
    var gradient = [Double](repeating: 0, count: inputWidth)
    zeros.withUnsafeBufferPointer { x in
      gradient.withUnsafeMutableBufferPointer { g in
        evaluateWithGradient(x.baseAddress!, rows: 1, outputs: &output, gradient: g.baseAddress!,
                             workspace: FittingWorkspace<Double>())
      }
    }
    return output
  }
}
