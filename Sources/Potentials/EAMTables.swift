/// LAMMPS's EAM tables after `PairEAM::file2array` and `array2spline`: every function on one grid
/// (r = (m−1)·dr, ρ = (m−1)·drho for m = 1…n) as cubic pieces, seven coefficients per point — three
/// of the derivative, four of the value — and, per type pair, which table to read.
///
/// The funcfl conversion, the grid sizes, the spline's end conditions and the clamping of the lookup
/// are LAMMPS's exactly (including its quirks: a funcfl grid has one point less than its file), so
/// that forces agree with LAMMPS's to round-off.
public struct EAMTables: Sendable {
  public let distanceCount: Int, densityCount: Int
  public let distanceStep: Double, densityStep: Double
  /// Largest tabulated density; beyond it F grows linearly (LAMMPS `rhomax`).
  public let maxDensity: Double
  public let cutoff: Double
  /// Splined F(ρ) per table, table t's point m at 7·(t·(densityCount + 1) + m).
  let embedding: [Double]
  /// Splined ρ(r) and r·φ(r), table t's point m at 7·(t·(distanceCount + 1) + m).
  let density: [Double], pairTimesDistance: [Double]
  /// Per LAMMPS type: the embedding table (LAMMPS `type2frho`).
  let embeddingTable: [Int]
  /// Per ordered type pair (i, j) at i·(typeCount + 1) + j: LAMMPS `type2rhor[i][j]`, the density
  /// an atom of type i puts on one of type j, and `type2z2r[i][j]`.
  let densityTable: [Int], pairTable: [Int]
  public let typeCount: Int

  /// `pair_style eam`: `files` in the order `pair_coeff` read them, `fileOfType[t]` the file of LAMMPS
  /// type t (1-based; every type set). Interpolates each file onto the common grid (4-point
  /// Lagrange, LAMMPS `file2array`) and mixes the pair terms as 27.2·0.529·Zᵢ·Zⱼ.
  public init(funcfl files: [FuncflFile], fileOfType: [Int]) {
    typeCount = fileOfType.count - 1
    let active = files.indices.filter { fileOfType.dropFirst().contains($0) }
    var dr = 0.0, drho = 0.0, rmax = 0.0, rhomax = 0.0
    for k in active {
      let file = files[k]
      dr = max(dr, file.distanceStep)
      drho = max(drho, file.densityStep)
      rmax = max(rmax, Double(file.density.count - 1) * file.distanceStep)
      rhomax = max(rhomax, Double(file.embedding.count - 1) * file.densityStep)
    }
    let nr = Int((rmax / dr).rounded()), nrho = Int((rhomax / drho).rounded())
    distanceCount = nr; densityCount = nrho; distanceStep = dr; densityStep = drho; maxDensity = rhomax
    cutoff = files.map(\.cutoff).max()!

    // One F per file read (active or not, as LAMMPS), then the zero function LAMMPS keeps for types
    // without EAM (pair hybrid; unused here).
    var embeddingValues = files.map { file in
      (1...nrho).map { m in lagrange(file.embedding, at: Double(m - 1) * drho, step: file.densityStep) }
    }
    embeddingValues.append([Double](repeating: 0, count: nrho))
    embedding = splined(embeddingValues, step: drho)
    density = splined(files.map { file in
      (1...nr).map { m in lagrange(file.density, at: Double(m - 1) * dr, step: file.distanceStep) }
    }, step: dr)
    var pairs: [[Double]] = []
    for i in files.indices {
      for j in 0...i {
        pairs.append((1...nr).map { m in
          let r = Double(m - 1) * dr
          return 27.2 * 0.529 * lagrange(files[i].charge, at: r, step: files[i].distanceStep)
            * lagrange(files[j].charge, at: r, step: files[j].distanceStep)
        })
      }
    }
    pairTimesDistance = splined(pairs, step: dr)
    embeddingTable = fileOfType.map { max($0, 0) }
    densityTable = EAMTables.pairIndices(typeCount) { i, _ in fileOfType[i] }
    pairTable = EAMTables.pairIndices(typeCount) { i, j in lowerTriangle(fileOfType[i], fileOfType[j]) }
  }

  /// `pair_style eam/alloy` and `eam/fs`: the file's grid as it is; `elementOfType[t]` the element of
  /// LAMMPS type t (1-based, every type set).
  public init(setfl file: SetflFile, elementOfType: [Int]) {
    typeCount = elementOfType.count - 1
    distanceCount = file.distanceCount; densityCount = file.densityCount
    distanceStep = file.distanceStep; densityStep = file.densityStep
    maxDensity = Double(file.densityCount - 1) * file.densityStep
    cutoff = file.cutoff
    embedding = splined(file.embedding + [[Double](repeating: 0, count: file.densityCount)], step: file.densityStep)
    density = splined(file.density, step: file.distanceStep)
    pairTimesDistance = splined(file.pairTimesDistance, step: file.distanceStep)
    embeddingTable = elementOfType.map { max($0, 0) }
    let n = file.elements.count
    densityTable = EAMTables.pairIndices(typeCount) { i, j in
      file.isFinnisSinclair ? elementOfType[i] * n + elementOfType[j] : elementOfType[i]
    }
    pairTable = EAMTables.pairIndices(typeCount) { i, j in lowerTriangle(elementOfType[i], elementOfType[j]) }
  }

  private static func pairIndices(_ typeCount: Int, _ index: (Int, Int) -> Int) -> [Int] {
    var table = [Int](repeating: 0, count: (typeCount + 1) * (typeCount + 1))
    for i in 1...typeCount { for j in 1...typeCount { table[i * (typeCount + 1) + j] = index(i, j) } }
    return table
  }
}

/// Index of the unordered pair (a, b) in a lower-triangular list (LAMMPS `type2z2r`).
private func lowerTriangle(_ a: Int, _ b: Int) -> Int {
  let (row, column) = a >= b ? (a, b) : (b, a)
  return row * (row + 1) / 2 + column
}

/// A funcfl table read at `r` by LAMMPS's 4-point Lagrange interpolation (`file2array`): the
/// stencil starts at the point below and is kept inside the table, extrapolating at its ends.
private func lagrange(_ values: [Double], at r: Double, step: Double) -> Double {
  let sixth = 1.0 / 6.0
  var p = r / step + 1
  // LAMMPS's 1-based k in [2, n − 2]; values[k − 1] is its entry k.
  let k = max(min(Int(p), values.count - 2), 2)
  p -= Double(k)
  p = min(p, 2)
  let c1 = -sixth * p * (p - 1) * (p - 2)
  let c2 = 0.5 * (p * p - 1) * (p - 2)
  let c3 = -0.5 * p * (p + 1) * (p - 2)
  let c4 = sixth * p * (p * p - 1)
  return c1 * values[k - 2] + c2 * values[k - 1] + c3 * values[k] + c4 * values[k + 1]
}

/// Each table's spline coefficients (LAMMPS `PairEAM::interpolate`), concatenated: n + 1 points of
/// seven each per table, point 0 unused so that index m is LAMMPS's m.
private func splined(_ tables: [[Double]], step: Double) -> [Double] {
  var result: [Double] = []
  for values in tables {
    let n = values.count
    var s = [[Double]](repeating: [Double](repeating: 0, count: 7), count: n + 1)
    for m in 1...n { s[m][6] = values[m - 1] }
    s[1][5] = s[2][6] - s[1][6]
    s[2][5] = 0.5 * (s[3][6] - s[1][6])
    s[n - 1][5] = 0.5 * (s[n][6] - s[n - 2][6])
    s[n][5] = s[n][6] - s[n - 1][6]
    if n >= 5 {
      for m in 3...(n - 2) { s[m][5] = ((s[m - 2][6] - s[m + 2][6]) + 8 * (s[m + 1][6] - s[m - 1][6])) / 12 }
    }
    for m in 1...(n - 1) {
      s[m][4] = 3 * (s[m + 1][6] - s[m][6]) - 2 * s[m][5] - s[m + 1][5]
      s[m][3] = s[m][5] + s[m + 1][5] - 2 * (s[m + 1][6] - s[m][6])
    }
    s[n][4] = 0
    s[n][3] = 0
    for m in 1...n {
      s[m][2] = s[m][5] / step
      s[m][1] = 2 * s[m][4] / step
      s[m][0] = 3 * s[m][3] / step
    }
    for row in s { result += row }
  }
  return result
}
