import DeepPotential
import Foundation
import Trajectory

/// `tessera eval`: evaluates a Deep Potential on every frame of an extended XYZ file and writes the
/// frames back with `energy` and `virial` (eV; the 3×3 matrix stored as ASE stores it, so
/// `ase.io.read(...).info["virial"]` is DeePMD-kit's virial) and per-atom `forces`, `energies` and
/// `atom_virial` (DeePMD-kit order xx xy xz yx yy yz zx zy zz), like `DeepPot.eval(atomic=True)`.
///
/// `typeMap` names the element of each model type when the frames use other names than the
/// model's `type_map`. Output goes to `outputPath` (written whole or not at all) or, when nil, to
/// standard output. `parameters`: the model's fparam/aparam (`--fparam`, `--aparam`), the same
/// for every frame. Returns the number of frames with neighbours beyond `sel`.
@discardableResult
public func runSinglePoint(modelPath: String, typeMap: [String]?, inputPath: String, outputPath: String?,
                           parameters: ModelParameters = ModelParameters()) throws -> Int {
  let modelTypeMap: [String], cutoff: Double, selection: String
  let evaluate: ([Double], [Int32], [Double]?) throws -> SinglePointResult
  if RepformerModel.isDPA2(path: modelPath) || RepflowModel.isDPA3(path: modelPath) {
    try parameters.refuse(for: modelPath, "a DPA-2 or DPA-3 model")
  }
  if RepformerModel.isDPA2(path: modelPath) {
    let evaluator = RepformerEvaluator(model: try RepformerModel.load(path: modelPath))
    let m = evaluator.model
    (modelTypeMap, cutoff, selection) = (m.typeMap, m.listCutoff, "\(m.listSelection)")
    evaluate = { try evaluator.evaluate(positions: $0, types: $1, cell: $2) }
  } else if RepflowModel.isDPA3(path: modelPath) {
    let evaluator = RepflowEvaluator(model: try RepflowModel.load(path: modelPath))
    (modelTypeMap, cutoff, selection) = (evaluator.model.typeMap, evaluator.model.cutoff, "\(evaluator.model.selection)")
    evaluate = { try evaluator.evaluate(positions: $0, types: $1, cell: $2) }
  } else {
    let model = try DeepPotentialModel.load(path: modelPath).withParameters(frame: parameters.frame, atom: parameters.atom)
    let evaluator = DeepPotentialEvaluator(model: model)
    (modelTypeMap, cutoff, selection) = (evaluator.model.typeMap, evaluator.model.cutoff, "\(evaluator.model.selection)")
    evaluate = { try evaluator.evaluate(positions: $0, types: $1, cell: $2) }
  }
  let names = typeMap ?? modelTypeMap
  guard names.count == modelTypeMap.count else {
    throw DeepPotentialError("--type-map names \(names.count) elements but \(modelPath) has \(modelTypeMap.count) types (\(modelTypeMap.joined(separator: ",")))")
  }
  var frames = try ExtendedXYZ.read(contentsOf: inputPath)
  var overflowFrames = 0
  for f in frames.indices {
    let frame = frames[f]
    let location = "\(inputPath): frame \(f + 1)"
    let (types, cell) = try evaluationInputs(frame, names: names, location: location)
    let result: SinglePointResult
    do {
      result = try evaluate(frame.positions, types, cell)
    } catch {
      throw DeepPotentialError("\(location): \(error)")
    }
    if result.overflowAtoms > 0 {
      overflowFrames += 1
      FileHandle.standardError.write(Data("WARNING: \(location): \(result.overflowAtoms) atoms have more neighbours within rcut \(cutoff) than sel \(selection); the farthest were dropped, as DeePMD-kit does\n".utf8))
    }
    var output = frame
    output.info["energy"] = .double(result.energy)
    output.setMatrix3x3(result.virial, for: "virial")
    let computed: [ExtendedXYZProperty] = [
      ExtendedXYZProperty(name: "forces", width: 3, values: .reals(result.forces)),
      ExtendedXYZProperty(name: "energies", width: 1, values: .reals(result.atomEnergies)),
    ] + (result.atomVirials.isEmpty ? [] : [ExtendedXYZProperty(name: "atom_virial", width: 9, values: .reals(result.atomVirials))])
    output.arrays.removeAll { ["forces", "energies", "atom_virial"].contains($0.name) }
    output.arrays += computed
    frames[f] = output
  }
  if let outputPath {
    try ExtendedXYZ.write(frames, to: outputPath)
  } else {
    FileHandle.standardOutput.write(Data(ExtendedXYZ.format(frames).utf8))
  }
  return overflowFrames
}

/// The fparam/aparam values `tessera eval` gives its model(s); nil: none given.
public struct ModelParameters: Sendable {
  public var frame: [Double]?
  public var atom: [Double]?
  public init(frame: [Double]? = nil, atom: [Double]? = nil) {
    self.frame = frame
    self.atom = atom
  }

  /// Refuses values for a model kind that takes none.
  func refuse(for path: String, _ kind: String) throws {
    if frame != nil || atom != nil { throw DeepPotentialError("\(path) is \(kind), which takes no fparam/aparam") }
  }
}

/// A frame's model type per atom (its element's index in `names`) and cell (nil: a cluster), as
/// `tessera eval` takes them: fully periodic with a lattice, or not periodic at all.
func evaluationInputs(_ frame: ExtendedXYZFrame, names: [String], location: String) throws -> (types: [Int32], cell: [Double]?) {
  let types = try frame.species.map { element -> Int32 in
    guard let t = names.firstIndex(of: element) else {
      throw DeepPotentialError("\(location): element '\(element)' is not in the model's type map (\(names.joined(separator: ", ")))")
    }
    return Int32(t)
  }
  switch (frame.lattice, frame.pbc) {
  case (let lattice?, [true, true, true]): return (types, lattice)
  case (_, [false, false, false]): return (types, nil)
  case (nil, _): throw DeepPotentialError("\(location): periodic (pbc \(frame.pbc)) but no Lattice")
  default: throw DeepPotentialError("\(location): mixed periodicity pbc \(frame.pbc) is not supported (DeePMD-kit models are evaluated fully periodic or as clusters)")
  }
}
