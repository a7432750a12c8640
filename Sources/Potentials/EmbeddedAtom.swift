import Atoms
import Geometry
import Neighbors

/// `pair_style eam`, `eam/alloy` and `eam/fs`: E = Σᵢ Fᵢ(ρᵢ) + ½ Σᵢⱼ φᵢⱼ(rᵢⱼ) with ρᵢ = Σⱼ ρⱼ→ᵢ(rᵢⱼ), as
/// LAMMPS's `PairEAM::compute` on a half list with Newton's third law. Two passes: densities
/// (ghosts' shares summed into their owners through the halo), then F'(ρ) on the owners, copied to
/// the ghosts through the halo, and the forces, which need F' of both atoms of a pair.
///
/// Unlike LAMMPS, the density pass keeps the pairs inside the cutoff (neighbour and distance), so
/// the force pass neither recomputes the distance nor tests the cutoff again: about 40 % of a
/// half list's pairs lie in the skin, and that test is an unpredictable branch. The arithmetic on
/// each pair is LAMMPS's, in its order.
public final class EmbeddedAtom: Potential {
  public let neighborKind = NeighborKind.half
  public let cutoff: Double
  let tables: EAMTables
  private let cutoffSquared: Double
  /// 1/dr and 1/drho, as LAMMPS's `rdr` and `rdrho` (one rounding, the same in every lookup).
  private let inverseDistanceStep: Double, inverseDensityStep: Double
  /// The splines of `tables`, copied where the loops read them without array checks.
  private let densitySpline: UnsafeMutableBufferPointer<Double>
  private let pairSpline: UnsafeMutableBufferPointer<Double>
  private let embeddingSpline: UnsafeMutableBufferPointer<Double>
  /// Per ordered type pair (i, j) at i·(typeCount + 1) + j, offsets (in doubles) of the tables a
  /// pair reads: ρ of j at i, ρ of i at j, r·φ; the point m adds 7·m.
  private let densityAtFirst: UnsafeMutableBufferPointer<Int>, densityAtSecond: UnsafeMutableBufferPointer<Int>
  private let pairTerm: UnsafeMutableBufferPointer<Int>
  /// Per type, the offset of its F(ρ) table.
  private let embeddingOffset: UnsafeMutableBufferPointer<Int>

  /// ρ and F'(ρ) of every owned and ghost atom; the pairs inside the cutoff (neighbour, distance,
  /// and per owned atom where its pairs end). Grown with the system, never shrunk, so a step
  /// allocates nothing.
  private var density = UnsafeMutablePointer<Double>.allocate(capacity: 1)
  private var embeddingSlope = UnsafeMutablePointer<Double>.allocate(capacity: 1)
  private var atomCapacity = 0
  private var pairEnd = UnsafeMutablePointer<Int32>.allocate(capacity: 1)
  private var ownedCapacity = 0
  private var pairNeighbor = UnsafeMutablePointer<Int32>.allocate(capacity: 1)
  private var pairDistance = UnsafeMutablePointer<Double>.allocate(capacity: 1)
  private var pairCapacity = 0
  private var energies: [Double] = []
  private var wantsPerAtom = false

  public init(tables: EAMTables) {
    self.tables = tables
    cutoff = tables.cutoff
    cutoffSquared = tables.cutoff * tables.cutoff
    inverseDistanceStep = 1 / tables.distanceStep
    inverseDensityStep = 1 / tables.densityStep
    densitySpline = copied(tables.density)
    pairSpline = copied(tables.pairTimesDistance)
    embeddingSpline = copied(tables.embedding)
    let stride = tables.typeCount + 1, distanceTable = 7 * (tables.distanceCount + 1)
    var first = [Int](repeating: 0, count: stride * stride), second = first, pair = first
    for i in 1..<stride {
      for j in 1..<stride {
        first[i * stride + j] = distanceTable * tables.densityTable[j * stride + i]
        second[i * stride + j] = distanceTable * tables.densityTable[i * stride + j]
        pair[i * stride + j] = distanceTable * tables.pairTable[i * stride + j]
      }
    }
    densityAtFirst = copied(first)
    densityAtSecond = copied(second)
    pairTerm = copied(pair)
    embeddingOffset = copied(tables.embeddingTable.map { 7 * (tables.densityCount + 1) * $0 })
  }

  deinit {
    for table in [densitySpline, pairSpline, embeddingSpline] { table.deallocate() }
    for table in [densityAtFirst, densityAtSecond, pairTerm, embeddingOffset] { table.deallocate() }
    density.deallocate()
    embeddingSlope.deallocate()
    pairEnd.deallocate()
    pairNeighbor.deallocate()
    pairDistance.deallocate()
  }

  public var perAtomEnergy: [Double]? { wantsPerAtom ? energies : nil }

  /// Grows the scratch to the system (half as much again, so that slow growth reallocates rarely).
  private func reserveScratch(atoms: Int, owned: Int, pairs: Int) {
    if atoms > atomCapacity {
      atomCapacity = max(atoms, atomCapacity + atomCapacity / 2)
      density.deallocate()
      embeddingSlope.deallocate()
      density = .allocate(capacity: atomCapacity)
      embeddingSlope = .allocate(capacity: atomCapacity)
    }
    if owned + 1 > ownedCapacity {
      ownedCapacity = max(owned + 1, ownedCapacity + ownedCapacity / 2)
      pairEnd.deallocate()
      pairEnd = .allocate(capacity: ownedCapacity)
    }
    if pairs > pairCapacity {
      pairCapacity = max(pairs, pairCapacity + pairCapacity / 2)
      pairNeighbor.deallocate()
      pairDistance.deallocate()
      pairNeighbor = .allocate(capacity: pairCapacity)
      pairDistance = .allocate(capacity: pairCapacity)
    }
  }

  public func compute(_ atoms: AtomStore, _ list: NeighborList, _ box: Box, _ request: ForceRequest,
                      ghosts: GhostRows) throws -> EnergyVirial {
    let total = atoms.totalCount
    reserveScratch(atoms: total, owned: atoms.ownedCount, pairs: list.pairCount)
    wantsPerAtom = request.contains(.perAtomEnergy)
    if wantsPerAtom {
      if energies.count != total { energies = [Double](repeating: 0, count: total) }
      for k in 0..<total { energies[k] = 0 }
    }
    density.update(repeating: 0, count: total)
    accumulateDensities(atoms, list)
    // Ghosts' shares of ρ belong to their owners (LAMMPS reverse_comm(pair)).
    ghosts.reverse(density, width: 1)
    var result = EnergyVirial()
    result.energy = embed(atoms)
    // The force on a pair needs F' of both atoms, ghosts included (LAMMPS forward_comm(pair)).
    ghosts.forward(embeddingSlope, width: 1)
    let (pairEnergy, virial) = pairForces(atoms)
    result.energy += pairEnergy
    result.virial = virial
    return result
  }

  /// ρᵢ = Σⱼ ρⱼ→ᵢ(rᵢⱼ) over the half list, each pair adding to both atoms (ghosts too); keeps the
  /// pairs inside the cutoff for the force pass.
  private func accumulateDensities(_ atoms: AtomStore, _ list: NeighborList) {
    let x = atoms.position, type = atoms.type, stride = tables.typeCount + 1
    // Locals, not properties: the compiler cannot keep a class's properties in registers across the
    // stores through pointers in the loop.
    let cut2 = cutoffSquared, rdr = inverseDistanceStep, lastPiece = tables.distanceCount - 1
    let rho = density, spline = densitySpline, atFirst = densityAtFirst, atSecond = densityAtSecond
    let kept = pairNeighbor, keptDistance = pairDistance, end = pairEnd
    var count = 0
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
            let r = r2.squareRoot()
            kept[count] = Int32(j)
            keptDistance[count] = r
            count += 1
            let (m, p) = distancePoint(r, rdr, lastPiece)
            let k = row + Int(type[j])
            rhoi += splineValue(spline, atFirst[k] + 7 * m, p)
            rho[j] += splineValue(spline, atSecond[k] + 7 * m, p)
          }
          rho[i] += rhoi
          end[i] = Int32(count)
        }
      }
    }
  }

  /// F(ρ) and F'(ρ) of each owned atom (LAMMPS's clamp to the table, and beyond ρmax a linear
  /// continuation of F so that energy stays conserved); returns ΣF.
  private func embed(_ atoms: AtomStore) -> Double {
    let type = atoms.type, rho = density, fp = embeddingSlope, spline = embeddingSpline
    let last = tables.densityCount - 1, rdrho = inverseDensityStep, rhomax = tables.maxDensity
    var energy = 0.0
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
    return energy
  }

  /// Forces −(F'ᵢ ρ'ⱼ→ᵢ + F'ⱼ ρ'ᵢ→ⱼ + φ') r̂ on both atoms of each pair kept by the density pass, the
  /// pair energy and the virial.
  private func pairForces(_ atoms: AtomStore) -> (Double, InlineArray<6, Double>) {
    let x = atoms.position, f = atoms.force, type = atoms.type, stride = tables.typeCount + 1
    let rdr = inverseDistanceStep, lastPiece = tables.distanceCount - 1, perAtom = wantsPerAtom
    let fp = embeddingSlope, rhoSpline = densitySpline, z2Spline = pairSpline
    let atFirst = densityAtFirst, atSecond = densityAtSecond, pairTerm = pairTerm
    let kept = pairNeighbor, keptDistance = pairDistance, end = pairEnd
    var energy = 0.0
    // The virial's diagonal and off-diagonal parts in two vectors (fewer registers than six sums).
    var diagonal = SIMD4<Double>(), offDiagonal = SIMD4<Double>()
    var start = 0
    for i in 0..<atoms.ownedCount {
      let xi = x[3 * i], yi = x[3 * i + 1], zi = x[3 * i + 2]
      let row = Int(type[i]) * stride
      let fpi = fp[i]
      var fxi = 0.0, fyi = 0.0, fzi = 0.0
      let stop = Int(end[i])
      for s in start..<stop {
        let j = Int(kept[s]), r = keptDistance[s]
        let dx = xi - x[3 * j], dy = yi - x[3 * j + 1], dz = zi - x[3 * j + 2]
        let (m, p) = distancePoint(r, rdr, lastPiece)
        let k = row + Int(type[j])
        // ρ'ᵢ→ⱼ (density i puts on j) and ρ'ⱼ→ᵢ; z2 = r·φ and its derivative.
        let rhoip = splineSlope(rhoSpline, atSecond[k] + 7 * m, p)
        let rhojp = splineSlope(rhoSpline, atFirst[k] + 7 * m, p)
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
        let d = SIMD4(dx, dy, dz, 0) * fpair
        diagonal += d * SIMD4(dx, dy, dz, 0)
        offDiagonal += SIMD4(d.x, d.x, d.y, 0) * SIMD4(dy, dz, dz, 0)
        if perAtom {
          // Half to each atom, a ghost's half folded back to its owner by the caller (LAMMPS eatom).
          energies[i] += 0.5 * phi
          energies[j] += 0.5 * phi
        }
      }
      start = stop
      f[3 * i] += fxi; f[3 * i + 1] += fyi; f[3 * i + 2] += fzi
    }
    return (energy, [diagonal.x, diagonal.y, diagonal.z, offDiagonal.x, offDiagonal.y, offDiagonal.z])
  }
}

private func copied<T>(_ values: [T]) -> UnsafeMutableBufferPointer<T> {
  let buffer = UnsafeMutableBufferPointer<T>.allocate(capacity: max(values.count, 1))
  _ = buffer.initialize(from: values)
  return buffer
}

/// Where r falls on the distance grid: point m and the fraction p ∈ [0, 1] past it, clamped to the
/// last piece as LAMMPS clamps it (`rdr` = 1/dr).
@inline(__always) private func distancePoint(_ r: Double, _ rdr: Double, _ lastPiece: Int) -> (Int, Double) {
  let p = r * rdr + 1
  let m = min(Int(p), lastPiece)
  return (m, min(p - Double(m), 1))
}

/// The cubic piece at `c` (7 coefficients, the value's in 3…6) at fraction p.
@inline(__always) private func splineValue(_ s: UnsafeMutableBufferPointer<Double>, _ c: Int, _ p: Double) -> Double {
  ((s[c + 3] * p + s[c + 4]) * p + s[c + 5]) * p + s[c + 6]
}

/// The derivative of the piece at `c` (already divided by the grid step; coefficients 0…2).
@inline(__always) private func splineSlope(_ s: UnsafeMutableBufferPointer<Double>, _ c: Int, _ p: Double) -> Double {
  (s[c] * p + s[c + 1]) * p + s[c + 2]
}
