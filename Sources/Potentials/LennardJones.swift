import Atoms
import Geometry
import Neighbors

/// Coefficients of one type pair of `pair_style lj/cut`.
public struct LennardJonesPair: Sendable {
  public var epsilon: Double
  public var sigma: Double
  public var cutoff: Double
  public init(epsilon: Double, sigma: Double, cutoff: Double) {
    self.epsilon = epsilon
    self.sigma = sigma
    self.cutoff = cutoff
  }
}

/// `pair_style lj/cut`: E = 4ε[(σ/r)¹² − (σ/r)⁶] (minus its value at the cutoff with
/// `pair_modify shift yes`), on a half list with Newton's third law, as LAMMPS `PairLJCut`.
public final class LennardJones: Potential {
  public let neighborKind = NeighborKind.half
  public let cutoff: Double
  private let typeCount: Int
  // Per type pair (1-based, row-major over (typeCount+1)²): the LAMMPS lj1..lj4 and offset.
  private var lj1: [Double], lj2: [Double], lj3: [Double], lj4: [Double], offset: [Double], cut2: [Double]
  private var energies: [Double] = []
  private var wantsPerAtom = false

  /// `pairs[i][j]` for 1 ≤ i ≤ j ≤ typeCount, fully resolved (mixing done by the caller).
  public init(typeCount: Int, pairs: [[LennardJonesPair?]], shift: Bool) {
    self.typeCount = typeCount
    let n = (typeCount + 1) * (typeCount + 1)
    lj1 = .init(repeating: 0, count: n); lj2 = lj1; lj3 = lj1; lj4 = lj1; offset = lj1; cut2 = lj1
    var maxCut = 0.0
    for i in 1...typeCount {
      for j in i...typeCount {
        guard let p = pairs[i][j] else { continue }
        let s6 = pow6(p.sigma)
        let values = (48 * p.epsilon * s6 * s6, 24 * p.epsilon * s6, 4 * p.epsilon * s6 * s6, 4 * p.epsilon * s6)
        var shiftValue = 0.0
        if shift && p.cutoff > 0 {
          let ratio6 = pow6(p.sigma / p.cutoff)
          shiftValue = 4 * p.epsilon * (ratio6 * ratio6 - ratio6)
        }
        for (a, b) in [(i, j), (j, i)] {
          let k = a * (typeCount + 1) + b
          lj1[k] = values.0; lj2[k] = values.1; lj3[k] = values.2; lj4[k] = values.3
          offset[k] = shiftValue
          cut2[k] = p.cutoff * p.cutoff
        }
        maxCut = max(maxCut, p.cutoff)
      }
    }
    cutoff = maxCut
  }

  public var perAtomEnergy: [Double]? { wantsPerAtom ? energies : nil }

  public func compute(_ atoms: AtomStore, _ list: NeighborList, _ box: Box, _ request: ForceRequest,
                      ghosts: GhostRows) throws -> EnergyVirial {
    var result = EnergyVirial()
    let x = atoms.position, f = atoms.force, type = atoms.type
    let owned = atoms.ownedCount
    wantsPerAtom = request.contains(.perAtomEnergy)
    if wantsPerAtom {
      if energies.count != atoms.totalCount { energies = [Double](repeating: 0, count: atoms.totalCount) }
      for k in 0..<atoms.totalCount { energies[k] = 0 }
    }
    var energy = 0.0
    var vxx = 0.0, vyy = 0.0, vzz = 0.0, vxy = 0.0, vxz = 0.0, vyz = 0.0
    let stride = typeCount + 1
    list.offsets.withUnsafeBufferPointer { offsets in
      list.neighbors.withUnsafeBufferPointer { neighbors in
        for i in 0..<owned {
          let xi = x[3 * i], yi = x[3 * i + 1], zi = x[3 * i + 2]
          let row = Int(type[i]) * stride
          var fxi = 0.0, fyi = 0.0, fzi = 0.0
          for s in Int(offsets[i])..<Int(offsets[i + 1]) {
            let j = Int(neighbors[s])
            let dx = xi - x[3 * j], dy = yi - x[3 * j + 1], dz = zi - x[3 * j + 2]
            let r2 = dx * dx + dy * dy + dz * dz
            let k = row + Int(type[j])
            if r2 >= cut2[k] { continue }
            let r2inv = 1 / r2
            let r6inv = r2inv * r2inv * r2inv
            let fpair = r6inv * (lj1[k] * r6inv - lj2[k]) * r2inv
            fxi += dx * fpair; fyi += dy * fpair; fzi += dz * fpair
            f[3 * j] -= dx * fpair; f[3 * j + 1] -= dy * fpair; f[3 * j + 2] -= dz * fpair
            let e = r6inv * (lj3[k] * r6inv - lj4[k]) - offset[k]
            energy += e
            vxx += dx * dx * fpair; vyy += dy * dy * fpair; vzz += dz * dz * fpair
            vxy += dx * dy * fpair; vxz += dx * dz * fpair; vyz += dy * dz * fpair
            if wantsPerAtom {
              // Half to each atom, a ghost's half folded back to its owner by the caller (LAMMPS eatom).
              energies[i] += 0.5 * e
              energies[j] += 0.5 * e
            }
          }
          f[3 * i] += fxi; f[3 * i + 1] += fyi; f[3 * i + 2] += fzi
        }
      }
    }
    result.energy = energy
    result.virial = [vxx, vyy, vzz, vxy, vxz, vyz]
    return result
  }
}

@inline(__always) private func pow6(_ x: Double) -> Double { let x2 = x * x; return x2 * x2 * x2 }
