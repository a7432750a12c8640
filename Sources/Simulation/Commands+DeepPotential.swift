import Foundation
import DeepPotential
import InputDeck
import Potentials

/// `pair_style deepmd MODEL.dp [keywords]` as DeePMD-kit's LAMMPS plugin reads it.
struct DeepPotentialSettings {
  var model: DeepPotentialModel
  var overflowIsError = false
  var precision = NetworkPrecision.float64
  /// Threads evaluating the model inside each rank.
  var threads = 1
  /// Model type index per LAMMPS type (index 0 unused); identity until `pair_coeff` names elements.
  var modelTypes: [Int32]
  var coefficientsSet = false
}

extension Simulation {
  /// Keywords of DeePMD-kit's `pair_style deepmd` that Tessera does not implement yet; refused by name
  /// rather than silently ignored.
  static let unsupportedDeepPotentialKeywords: Set<String> = [
    "out_freq", "out_file", "fparam", "aparam", "fparam_from_compute", "aparam_from_compute", "ttm", "atomic",
    "relative", "relative_v", "virtual_len", "spin_norm",
  ]

  func deepPotentialStyle(_ c: Command) throws {
    guard units.name == "metal" else { throw c.error("deepmd models need 'units metal' (Å, eV, ps), not \(units.name)") }
    let path = try c.word(1, "model file")
    if c.arguments.count > 2, c.arguments[2].hasSuffix(".dp") || c.arguments[2].hasSuffix(".pb") || c.arguments[2].hasSuffix(".pth") {
      throw c.error("model ensembles (model deviation) are not supported yet: give one model file")
    }
    let model: DeepPotentialModel
    do {
      model = try DeepPotentialModel.load(path: path)
    } catch {
      throw c.error("\(error)")
    }
    modelChecksum = try fileChecksum(path, c)
    if let expected = expectedModelChecksum, expected != modelChecksum {
      throw c.error("\(path) is not the model the restart was written with (checksum \(modelChecksum!) instead of \(expected))")
    }
    var settings = DeepPotentialSettings(
      model: model, modelTypes: (0...masses.typeCount).map { Int32(max($0 - 1, 0)) })
    var tabulation: TabulationSettings?
    func positive(_ i: Int, _ what: String) throws -> Double {
      let value = try c.double(i + 1, what)
      guard value > 0 else { throw c.error("expected a positive \(what) after \(c.arguments[i]), got \(c.arguments[i + 1])") }
      return value
    }
    var i = 2
    while i < c.arguments.count {
      let key = c.arguments[i]
      if key == "sel_overflow" {
        switch try c.word(i + 1, "sel_overflow policy") {
        case "error": settings.overflowIsError = true
        case "warn": settings.overflowIsError = false
        case let w: throw c.error("expected error or warn after sel_overflow, got '\(w)'")
        }
        i += 2
      } else if key == "precision" {
        let word = try c.word(i + 1, "precision")
        guard let precision = NetworkPrecision(rawValue: word) else {
          throw c.error("expected float64 or float32 after precision, got '\(word)'")
        }
        settings.precision = precision
        i += 2
      } else if key == "threads" {
        settings.threads = try c.positiveInteger(i + 1, "thread count")
        i += 2
      } else if key == "compress" {
        tabulation = tabulation ?? TabulationSettings()
        i += 1
      } else if ["stride", "extrapolate", "min_nbor_dist"].contains(key) {
        guard tabulation != nil else { throw c.error("'\(key)' sets up the tables of 'compress'; put it after compress") }
        switch key {
        case "stride": tabulation!.stride = try positive(i, "table step")
        case "extrapolate":
          tabulation!.extrapolate = try positive(i, "extrapolation factor")
          guard tabulation!.extrapolate > 1 else { throw c.error("expected extrapolate > 1, got \(c.arguments[i + 1])") }
        default: tabulation!.minNeighborDistance = try positive(i, "distance (Å)")
        }
        i += 2
      } else if Self.unsupportedDeepPotentialKeywords.contains(key) {
        throw c.error("keyword '\(key)' of DeePMD-kit's pair_style deepmd is not supported by Tessera yet")
      } else {
        throw c.error("unknown keyword '\(key)' (sel_overflow error|warn, precision float64|float32, threads N, compress [stride S] [extrapolate X] [min_nbor_dist D])")
      }
    }
    console.line("Deep Potential model \(path): type map \(model.typeMap.joined(separator: " ")), rcut \(model.cutoff), sel \(model.selection)")
    if let tabulation {
      do {
        settings.model = try model.tabulated(tabulation)
      } catch {
        throw c.error("\(error)")
      }
      let distance = tabulation.minNeighborDistance ?? model.minNeighborDistance!
      console.line("Deep Potential tables built at load (stride \(tabulation.stride), extrapolate \(tabulation.extrapolate), "
        + "min_nbor_dist \(distance)): \(settings.model.tabulationReport()!)")
    } else if let report = model.tabulationReport() {
      console.line("Deep Potential tables read from the model file (dp compress): \(report)")
    }
    pairStyleSettings = .deepPotential(settings)
  }

  /// The model file's identity in restarts: FNV-1a 64 of its bytes.
  private func fileChecksum(_ path: String, _ c: Command) throws -> String {
    guard let data = FileManager.default.contents(atPath: path) else { throw c.error("cannot read \(path)") }
    return String(RestartFile.checksum(data), radix: 16)
  }

  /// `pair_coeff * * ELEMENT…`: one model element (or NULL: not this potential) per LAMMPS type, by
  /// name, as DeePMD-kit's plugin; a bare `pair_coeff * *` maps type k to model type k−1.
  func deepPotentialCoefficients(_ c: Command) throws {
    guard case .deepPotential(var settings) = pairStyleSettings else { return }
    guard c.arguments.count >= 2, c.arguments[0] == "*", c.arguments[1] == "*" else {
      throw c.error("expected 'pair_coeff * * ELEMENT…' for pair_style deepmd")
    }
    let elements = Array(c.arguments.dropFirst(2))
    let typeMap = settings.model.typeMap
    if elements.isEmpty {
      guard masses.typeCount <= typeMap.count else {
        throw c.error("\(masses.typeCount) atom types but the model knows only \(typeMap.count) elements (\(typeMap.joined(separator: ", "))); name them: pair_coeff * * ELEMENT…")
      }
      settings.modelTypes = (0...masses.typeCount).map { Int32(max($0 - 1, 0)) }
    } else {
      guard elements.count == masses.typeCount else {
        throw c.error("expected \(masses.typeCount) element names (one per atom type), got \(elements.count)")
      }
      for (k, element) in elements.enumerated() {
        if element == "NULL" {
          settings.modelTypes[k + 1] = -1
          continue
        }
        guard let index = typeMap.firstIndex(of: element) else {
          throw c.error("element '\(element)' is not in the model's type map (\(typeMap.joined(separator: ", ")))")
        }
        settings.modelTypes[k + 1] = Int32(index)
      }
    }
    settings.coefficientsSet = true
    pairStyleSettings = .deepPotential(settings)
  }

  func makeDeepPotential(_ settings: DeepPotentialSettings, _ c: Command) throws -> Potential {
    guard settings.coefficientsSet else { throw c.error("pair_style deepmd needs 'pair_coeff * * ELEMENT…' before a run") }
    return DeepPotentialForce(model: settings.model, modelTypes: settings.modelTypes,
                              overflowIsError: settings.overflowIsError, precision: settings.precision,
                              threads: settings.threads)
  }
}
