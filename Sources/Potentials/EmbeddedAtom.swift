import Atoms
import Geometry
import Neighbors

/// `pair_style eam`, `eam/alloy` and `eam/fs`: E = Σᵢ Fᵢ(ρᵢ) + ½ Σᵢⱼ φᵢⱼ(rᵢⱼ) with ρᵢ = Σⱼ ρⱼ→ᵢ(rᵢⱼ), as
/// LAMMPS's `PairEAM::compute` on a half list with Newton's third law. Two passes over the list:
/// densities (ghosts' shares summed into their owners through the halo), then F'(ρ) on the owners,
/// copied to the ghosts through the halo, and the forces, which need F' of both atoms of a pair.
public final class EmbeddedAtom: Potential {
  public let neighborKind = NeighborKind.half
  public let cutoff: Double
  let tables: EAMTables
  private let cutoffSquared: Double
  /// 1/dr, as LAMMPS's `rdr` (one rounding, the same in every lookup).
  private let inverseDistanceStep: Double
  /// Per ordered type pair (i, j) at i·(typeCount + 1) + j, offsets (in doubles) of the tables a
  /// pair loop reads: ρ of j at i, ρ of i at j, r·φ; the point m adds 7·m.
  private let densityAtFirst: [Int], densityAtSecond: [Int], pairTerm: [Int]
  /// Per type, the offset of its F(ρ) table.
  private let embeddingOffset: [Int]
  /// ρ and F'(ρ) of every owned and ghost atom, grown with the atom count and never shrunk, so a
  /// step allocates nothing.
  private var density: UnsafeMutablePointer<Double>
  private var embeddingSlope: UnsafeMutablePointer<Double>
  private var scratchCapacity = 0
  private var energies: [Double] = []
  private var wantsPerAtom = false

  public init(tables: EAMTables) {
    self.tables = tables
    cutoff = tables.cutoff
    cutoffSquared = tables.cutoff * tables.cutoff
    inverseDistanceStep = 1 / tables.distanceStep
    let stride = tables.typeCount + 1, distanceTable = 7 * (tables.distanceCount + 1)
    var first = [Int](repeating: 0, count: stride * stride), second = first, pair = first
    for i in 1..<stride {
      for j in 1..<stride {
        first[i * stride + j] = distanceTable * tables.densityTable[j * stride + i]
        second[i * stride + j] = distanceTable * tables.densityTable[i * stride + j]
        pair[i * stride + j] = distanceTable * tables.pairTable[i * stride + j]
      }
    }
    densityAtFirst = first; densityAtSecond = second; pairTerm = pair
    embeddingOffset = tables.embeddingTable.map { 7 * (tables.densityCount + 1) * $0 }
    density = .allocate(capacity: 1)
    embeddingSlope = .allocate(capacity: 1)
  }

  deinit {
    density.deallocate()
    embeddingSlope.deallocate()
  }

  public var perAtomEnergy: [Double]? { wantsPerAtom ? energies : nil }

  private func reserveScratch(_ count: Int) {
    guard count > scratchCapacity else { return }
    let capacity = max(count, scratchCapacity + scratchCapacity / 2)
    density.deallocate()
    embeddingSlope.deallocate()
    density = .allocate(capacity: capacity)
    embeddingSlope = .allocate(capacity: capacity)
    scratchCapacity = capacity
  }

  public func compute(_ atoms: AtomStore, _ list: NeighborList, _ box: Box, _ request: ForceRequest,
                      ghosts: GhostRows) throws -> EnergyVirial {
    let total = atoms.totalCount
    reserveScratch(total)
    wantsPerAtom = request.contains(.perAtomEnergy)
    if wantsPerAtom {
      if energies.count != total { energies = [Double](repeating: 0, count: total) }
      for k in 0..<total { energies[k] = 0 }
    }
    let rho = density, fp = embeddingSlope
    rho.update(repeating: 0, count: total)
    accumulateDensities(atoms, list, into: rho)
    // Ghosts' shares of ρ belong to their owners (LAMMPS reverse_comm(pair)).
    ghosts.reverse(rho, width: 1)
    var result = EnergyVirial()
    result.energy = embed(atoms, rho: rho, slope: fp)
    // The force on a pair needs F' of both atoms, ghosts included (LAMMPS forward_comm(pair)).
    ghosts.forward(fp, width: 1)
    let (pairEnergy, virial) = pairForces(atoms, list, slope: fp)
    result.energy += pairEnergy
    result.virial = virial
    return result
  }

  /// Where r falls on the distance grid: point m and the fraction p ∈ [0, 1] past it, clamped to
  /// the last piece as LAMMPS clamps it.
  @inline(__always) private func distancePoint(_ r: Double) -> (Int, Double) {
    let p = r * inverseDistanceStep + 1
    let m = min(Int(p), tables.distanceCount - 1)
    return (m, min(p - Double(m), 1))
  }

  /// ρᵢ = Σⱼ ρⱼ→ᵢ(rᵢⱼ) over the half list, each pair adding to both atoms (ghosts too).
  private func accumulateDensities(_ atoms: AtomStore, _ list: NeighborList, into rho: UnsafeMutablePointer<Double>) {
    let x = atoms.position, type = atoms.type, stride = tables.typeCount + 1
    let cut2 = cutoffSquared
    tables.density.withUnsafeBufferPointer { spline in
      list.offsets.withUnsafeBufferPointer { offsets in
        list.neighbors.withUnsafeBufferPointer { neighbors in
          for i in 0..<atoms.ownedCount {
            let xi = x[3 * i], yi = x[3 * i + 1], zi = x[3 * i + 2]
            let row = Int(type[i]) * stride
            var rhoi = 0.0
            for s in Int(offsets[i])..<Int(offsets[i + 1]) {
              let j = Int(neighbors[s])
              let dx = xi - x[3 * j], dy = yi - x[3 * j + 1], dz = zi - x[3 * j + 2]
              let r2 = dx * dx + dy * dy + dz * dz
              if r2 >= cut2 { continue }
              let (m, p) = distancePoint(r2.squareRoot())
              let k = row + Int(type[j])
              rhoi += splineValue(spline, densityAtFirst[k] + 7 * m, p)
              rho[j] += splineValue(spline, densityAtSecond[k] + 7 * m, p)
            }
            rho[i] += rhoi
          }
        }
      }
    }
  }

  /// F(ρ) and F'(ρ) of each owned atom (LAMMPS's clamp to the table, and beyond ρmax a linear
  /// continuation of F so that energy stays conserved); returns ΣF.
  private func embed(_ atoms: AtomStore, rho: UnsafeMutablePointer<Double>, slope fp: UnsafeMutablePointer<Double>) -> Double {
    let type = atoms.type
    let last = tables.densityCount - 1, rdrho = 1 / tables.densityStep, rhomax = tables.maxDensity
    var energy = 0.0
    tables.embedding.withUnsafeBufferPointer { spline in
      for i in 0..<atoms.ownedCount {
        var p = rho[i] * rdrho + 1
        // LAMMPS: m = MAX(1, MIN((int)p, nrho − 1)); a non-finite ρ takes the last piece instead of
        // trapping in the conversion (the thermo check then reports the blow-up).
        let m = !(p < Double(last)) ? last : p < 1 ? 1 : Int(p)
        p -= Double(m)
        p = min(p, 1)
        let c = embeddingOffset[Int(type[i])] + 7 * m
        fp[i] = (spline[c] * p + spline[c + 1]) * p + spline[c + 2]
        var phi = ((spline[c + 3] * p + spline[c + 4]) * p + spline[c + 5]) * p + spline[c + 6]
        if rho[i] > rhomax { phi += fp[i] * (rho[i] - rhomax) }
        energy += phi
        if wantsPerAtom { energies[i] += phi }
      }
    }
    return energy
  }

  /// Forces −(F'ᵢ ρ'ⱼ→ᵢ + F'ⱼ ρ'ᵢ→ⱼ + φ') r̂ on both atoms of each pair, the pair energy and virial.
  private func pairForces(_ atoms: AtomStore, _ list: NeighborList, slope fp: UnsafeMutablePointer<Double>)
    -> (Double, InlineArray<6, Double>) {
    let x = atoms.position, f = atoms.force, type = atoms.type, stride = tables.typeCount + 1
    let cut2 = cutoffSquared
    var energy = 0.0
    var vxx = 0.0, vyy = 0.0, vzz = 0.0, vxy = 0.0, vxz = 0.0, vyz = 0.0
    tables.density.withUnsafeBufferPointer { rhoSpline in
      tables.pairTimesDistance.withUnsafeBufferPointer { z2Spline in
        list.offsets.withUnsafeBufferPointer { offsets in
          list.neighbors.withUnsafeBufferPointer { neighbors in
            for i in 0..<atoms.ownedCount {
              let xi = x[3 * i], yi = x[3 * i + 1], zi = x[3 * i + 2]
              let row = Int(type[i]) * stride
              let fpi = fp[i]
              var fxi = 0.0, fyi = 0.0, fzi = 0.0
              for s in Int(offsets[i])..<Int(offsets[i + 1]) {
                let j = Int(neighbors[s])
                let dx = xi - x[3 * j], dy = yi - x[3 * j + 1], dz = zi - x[3 * j + 2]
                let r2 = dx * dx + dy * dy + dz * dz
                if r2 >= cut2 { continue }
                let r = r2.squareRoot()
                let (m, p) = distancePoint(r)
                let k = row + Int(type[j])
                // ρ'ᵢ→ⱼ (density i puts on j) and ρ'ⱼ→ᵢ; z2 = r·φ and its derivative.
                let rhoip = splineSlope(rhoSpline, densityAtSecond[k] + 7 * m, p)
                let rhojp = splineSlope(rhoSpline, densityAtFirst[k] + 7 * m, p)
                let z = pairTerm[k] + 7 * m
                let z2p = splineSlope(z2Spline, z, p)
                let z2 = splineValue(z2Spline, z, p)
                let recip = 1 / r
                let phi = z2 * recip
                let phip = z2p * recip - phi * recip
                let psip = fpi * rhojp + fp[j] * rhoip + phip
                let fpair = -psip * recip
                fxi += dx * fpair; fyi += dy * fpair; fzi += dz * fpair
                f[3 * j] -= dx * fpair; f[3 * j + 1] -= dy * fpair; f[3 * j + 2] -= dz * fpair
                energy += phi
                vxx += dx * dx * fpair; vyy += dy * dy * fpair; vzz += dz * dz * fpair
                vxy += dx * dy * fpair; vxz += dx * dz * fpair; vyz += dy * dz * fpair
                if wantsPerAtom {
                  // Half to each atom, a ghost's half folded back to its owner by the caller (LAMMPS eatom).
                  energies[i] += 0.5 * phi
                  energies[j] += 0.5 * phi
                }
              }
              f[3 * i] += fxi; f[3 * i + 1] += fyi; f[3 * i + 2] += fzi
            }
          }
        }
      }
    }
    return (energy, [vxx, vyy, vzz, vxy, vxz, vyz])
  }
}

/// The cubic piece at `c` (7 coefficients, the value's in 3…6) at fraction p.
@inline(__always) private func splineValue(_ s: UnsafeBufferPointer<Double>, _ c: Int, _ p: Double) -> Double {
  ((s[c + 3] * p + s[c + 4]) * p + s[c + 5]) * p + s[c + 6]
}

/// The derivative of the piece at `c` (already divided by the grid step; coefficients 0…2).
@inline(__always) private func splineSlope(_ s: UnsafeBufferPointer<Double>, _ c: Int, _ p: Double) -> Double {
  (s[c] * p + s[c + 1]) * p + s[c + 2]
}
