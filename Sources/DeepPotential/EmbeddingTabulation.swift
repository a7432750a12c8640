/// How to tabulate the embedding networks, with `dp compress`'s defaults: `stride` is its `-s`
/// (fine grid step; the coarse grid uses ten times it), `extrapolate` its `-e` (the coarse grid ends
/// at extrapolate × upper).
public struct TabulationSettings: Sendable {
  public var stride = 0.01
  public var extrapolate = 5.0
  /// The training data's nearest neighbour distance (Å), which sets the upper end of the fine grid;
  /// nil takes the model file's `min_nbor_dist`.
  public var minNeighborDistance: Double?

  public init(stride: Double = 0.01, extrapolate: Double = 5, minNeighborDistance: Double? = nil) {
    self.stride = stride
    self.extrapolate = extrapolate
    self.minNeighborDistance = minNeighborDistance
  }
}

/// How far a model's tables are from its embedding networks: the largest differences of G and
/// dG/ds over a check grid (a quarter, half and three quarters into every interval) on the
/// tabulated range of s.
public struct TabulationReport: Sendable, CustomStringConvertible {
  public let tableCount: Int
  /// Tables whose network the file also holds (only those can be checked).
  public let checkedCount: Int
  public let intervalCount: Int
  /// The union of the tables' ranges [lower, extrapolate × upper).
  public let range: ClosedRange<Double>
  public let valueError: Double
  public let slopeError: Double

  public var description: String {
    "\(tableCount) table\(tableCount == 1 ? "" : "s"), \(intervalCount) intervals on s in [\(range.lowerBound), "
      + "\(range.upperBound)), max error \(formatError(valueError)) in G, \(formatError(slopeError)) in dG/ds"
      + (checkedCount == tableCount ? "" : " (\(checkedCount) of them checked: the file lacks the other networks)")
  }

  private func formatError(_ x: Double) -> String {
    x == 0 ? "0" : String(format: "%.2e", x)
  }
}

extension DeepPotentialModel {
  /// The model with its embedding networks replaced by tables built as `dp compress` builds them
  /// (DeePMD-kit's `DPTabulate`): per table a fine grid from `lower` to `upper` in steps of
  /// `stride`, a coarse one on to extrapolate × upper in steps of 10 × stride, and on each interval
  /// the quintic matching G, dG/ds and d²G/ds² at both nodes. `lower`/`upper` are DeePMD-kit's
  /// bounds of the normalised s: floor and ceiling of −avg/std and (s(r_min)/r_min − avg)/std over
  /// the statistics of the first neighbour slot (all four components, as DeePMD-kit takes them).
  public func tabulated(_ settings: TabulationSettings) throws -> DeepPotentialModel {
    if let attention {
      var model = self
      model.attention = try attention.tabulated(settings)
      return model
    }
    if let name = otherDescriptorName {
      throw DeepPotentialError("\(path): tabulating a \(name) model's embedding (compress) is not supported yet")
    }
    guard let distance = settings.minNeighborDistance ?? minNeighborDistance else {
      throw DeepPotentialError("\(path): the model does not record min_nbor_dist (the training data's nearest "
        + "neighbour distance, which dp compress takes from the training data); give it: compress min_nbor_dist D")
    }
    guard distance > 0, settings.stride > 0, settings.extrapolate > 1 else {
      throw DeepPotentialError("\(path): tabulation needs min_nbor_dist > 0, stride > 0 and extrapolate > 1 "
        + "(got \(distance), \(settings.stride), \(settings.extrapolate))")
    }
    let n = typeCount
    let (lower, upper) = normalisedRange(minNeighborDistance: distance)
    var built = [EmbeddingTable?]()
    for index in 0..<embeddings.count {
      // The centre types whose statistics bound this table's input.
      let centres: [Int]
      if typeOneSide {
        let neighbor = index
        if (0..<n).allSatisfy({ descriptorExcluded[neighbor * n + $0] }) {
          built.append(nil)
          continue
        }
        centres = (0..<n).filter { !descriptorExcluded[$0 * n + neighbor] && selection[$0] > 0 }
      } else {
        let centre = index % n, neighbor = index / n
        centres = descriptorExcluded[centre * n + neighbor] ? [] : [centre]
      }
      guard let network = embeddings[index], !centres.isEmpty else {
        built.append(nil)
        continue
      }
      let low = centres.map { lower[$0] }.min()!, high = centres.map { upper[$0] }.max()!
      built.append(try EmbeddingTable.tabulate(network, lower: low, upper: high, settings: settings, model: path))
    }
    var model = self
    model.tables = built
    return model
  }

  /// Per centre type, DeePMD-kit's floor(lower) and ceil(upper) of the normalised s(r).
  private func normalisedRange(minNeighborDistance r: Double) -> (lower: [Double], upper: [Double]) {
    let sw = smoothSwitch(r, smoothingStart: smoothingStart, cutoff: cutoff).value
    var lower = [Double](), upper = [Double]()
    for t in 0..<typeCount {
      var low = Double.infinity, high = -Double.infinity
      for c in 0..<4 {
        let avg = average[t * slotCount * 4 + c], std = deviation[t * slotCount * 4 + c]
        low = min(low, -avg / std)
        high = max(high, ((1 / r) * sw - avg) / std)
      }
      lower.append(low.rounded(.down))
      upper.append(high.rounded(.up))
    }
    return (lower, upper)
  }

  /// The distance of the model's tables from its networks, or nil for a model without tables.
  public func tabulationReport() -> TabulationReport? {
    if let attention { return attention.tabulationReport() }
    guard let tables else { return nil }
    var count = 0, checked = 0, intervals = 0, valueError = 0.0, slopeError = 0.0
    var low = Double.infinity, high = -Double.infinity
    for (table, network) in zip(tables, embeddings) {
      guard let table else { continue }
      count += 1
      intervals += table.intervalCount
      low = min(low, table.lower)
      high = max(high, table.maximum)
      guard let network else { continue }
      checked += 1
      let error = table.distance(from: network)
      valueError = max(valueError, error.value)
      slopeError = max(slopeError, error.slope)
    }
    return TabulationReport(tableCount: count, checkedCount: checked, intervalCount: intervals, range: low...max(low, high),
                            valueError: valueError, slopeError: slopeError)
  }
}

extension EmbeddingTable {
  /// One table of `DPTabulate._build_lower`, coefficients stored [interval][power][output].
  static func tabulate(_ network: DenseNetwork, lower: Double, upper: Double, settings: TabulationSettings,
                       model: String) throws -> EmbeddingTable {
    let fine = settings.stride, coarse = 10 * settings.stride, maximum = settings.extrapolate * upper
    guard upper > lower, maximum > upper else {
      throw DeepPotentialError("\(model): cannot tabulate the embedding on s in [\(lower), \(upper)] up to \(maximum)")
    }
    let nodes = numpyRange(lower, upper, fine) + numpyRange(upper, maximum, coarse) + [maximum]
    let intervals = Int((upper - lower) / fine + (maximum - upper) / coarse)
    let fineCount = Int((upper - lower) / fine)
    guard intervals > 0, nodes.count > intervals else {
      throw DeepPotentialError("\(model): the tabulation grid has \(nodes.count) nodes for \(intervals) intervals")
    }
    let width = network.outputWidth
    let derivatives = nodes.prefix(intervals + 1).map { network.derivatives(at: $0) }
    var coefficients = [Double](repeating: 0, count: intervals * 6 * width)
    for l in 0..<intervals {
      let t = l < fineCount ? fine : coarse
      let (v0, d0, s0) = derivatives[l], (v1, d1, s1) = derivatives[l + 1]
      let row = l * 6 * width
      for m in 0..<width {
        let h = v1[m] - v0[m]
        coefficients[row + m] = v0[m]
        coefficients[row + width + m] = d0[m]
        coefficients[row + 2 * width + m] = 0.5 * s0[m]
        coefficients[row + 3 * width + m] = (1 / (2 * t * t * t))
          * (20 * h - (8 * d1[m] + 12 * d0[m]) * t - (3 * s0[m] - s1[m]) * t * t)
        coefficients[row + 4 * width + m] = (1 / (2 * t * t * t * t))
          * (-30 * h + (14 * d1[m] + 16 * d0[m]) * t + (3 * s0[m] - 2 * s1[m]) * t * t)
        coefficients[row + 5 * width + m] = (1 / (2 * t * t * t * t * t))
          * (12 * h - 6 * (d1[m] + d0[m]) * t + (s1[m] - s0[m]) * t * t)
      }
    }
    return EmbeddingTable(lower: lower, upper: upper, maximum: maximum, fineStep: fine, coarseStep: coarse,
                          intervalCount: intervals, width: width, coefficients: coefficients)
  }

  /// `numpy.arange(start, stop, step)` for doubles, node for node: ⌈(stop − start)/step⌉ values,
  /// start + i·δ with δ = (start + step) − start.
  private static func numpyRange(_ start: Double, _ stop: Double, _ step: Double) -> [Double] {
    let count = Int(((stop - start) / step).rounded(.up))
    guard count > 0 else { return [] }
    let delta = (start + step) - start
    return (0..<count).map { i in i == 0 ? start : i == 1 ? start + step : start + Double(i) * delta }
  }

  /// Largest |ΔG| and |ΔdG/ds| against the network a quarter, half and three quarters into every
  /// interval.
  func distance(from network: DenseNetwork) -> (value: Double, slope: Double) {
    let fineCount = Int(((upper - lower) / fineStep).rounded(.towardZero))
    var inputs = [Double]()
    for l in 0..<intervalCount {
      let start = l < fineCount ? lower + Double(l) * fineStep : upper + Double(l - fineCount) * coarseStep
      let step = l < fineCount ? fineStep : coarseStep
      for fraction in [0.25, 0.5, 0.75] { inputs.append(start + fraction * step) }
    }
    var exact = [Double](repeating: 0, count: 2 * inputs.count * width)
    network.embed(inputs, rows: inputs.count, into: &exact, workspace: EmbeddingWorkspace<Double>())
    var values = [Double](repeating: 0, count: width), slopes = values
    var valueError = 0.0, slopeError = 0.0
    for (row, x) in inputs.enumerated() {
      evaluate(x, values: &values, slopes: &slopes)
      for m in 0..<width {
        valueError = max(valueError, abs(values[m] - exact[row * width + m]))
        slopeError = max(slopeError, abs(slopes[m] - exact[(inputs.count + row) * width + m]))
      }
    }
    return (valueError, slopeError)
  }
}

extension DenseNetwork {
  /// G, dG/ds and d²G/ds² of a scalar-input network at s, layer after layer (forward mode, in the
  /// order of DeePMD-kit's `unaggregated_dy_dx` / `unaggregated_dy2_dx`).
  func derivatives(at s: Double) -> (value: [Double], first: [Double], second: [Double]) {
    var x = [s], dx = [1.0], ddx = [0.0]
    for layer in layers {
      let k = layer.inputWidth, n = layer.outputWidth
      var y = [Double](repeating: 0, count: n), dy = y, ddy = y
      for o in 0..<n {
        var z = 0.0, dz = 0.0, ddz = 0.0
        for i in 0..<k {
          let w = layer.weights[i * n + o]
          z += x[i] * w
          dz += dx[i] * w
          ddz += ddx[i] * w
        }
        z += layer.bias?[o] ?? 0
        let a = layer.activation.value(z)
        let slope = layer.activation.derivative(z, output: a)
        let curvature = layer.activation.secondDerivative(z, output: a)
        let idt = layer.timestep?[o] ?? 1
        y[o] = a * idt
        dy[o] = slope * dz * idt
        ddy[o] = (slope * ddz + curvature * dz * dz) * idt
        switch layer.residual {
        case .none: break
        case .identity, .doubling:
          y[o] += x[o % k]
          dy[o] += dx[o % k]
          ddy[o] += ddx[o % k]
        }
      }
      (x, dx, ddx) = (y, dy, ddy)
    }
    return (x, dx, ddx)
  }
}
