import Foundation
import Geometry

extension Simulation {
  /// The ids `delete_atoms overlap` deletes, the same on every rank count: LAMMPS's rule as it acts
  /// on one rank with its atoms stored in id order. Atoms are visited in id order; atom I (in
  /// `first`) goes when some J (in `second`) lies closer than `cutoff`, where a J seen without a
  /// periodic shift (an owned atom on one LAMMPS rank) counts only while J itself is still there, and
  /// a periodic image of J (a ghost) counts unless I is in `second`, J in `first` and I's id is the
  /// larger — then J's side of the pair decides. Every atom is gathered on every rank for this: a
  /// command run once while a system is built.
  func overlapDeletions(cutoff: Double, _ first: AtomGroup, _ second: AtomGroup) -> Set<Int64> {
    let box = self.box!
    let mine = (0..<atoms.ownedCount).flatMap { i -> [Double] in
      var x = atoms.positionOf(i), image = SIMD3<Int32>.zero
      box.wrap(&x, image: &image)
      return [Double(atoms.tag[i]), x.x, x.y, x.z]
    }
    var all: [(id: Int64, x: SIMD3<Double>)] = []
    for part in comm.allGatherBytes(mine.withUnsafeBytes { [UInt8]($0) }) {
      part.withUnsafeBytes {
        let v = $0.bindMemory(to: Double.self)
        for k in stride(from: 0, to: v.count, by: 4) { all.append((Int64(v[k]), SIMD3(v[k + 1], v[k + 2], v[k + 3]))) }
      }
    }
    all.sort { $0.id < $1.id }
    let bins = OverlapBins(box: box, cutoff: cutoff, positions: all.map(\.x))
    let inFirst = all.map { first.contains($0.id) }, inSecond = all.map { second.contains($0.id) }
    var deleted = [Bool](repeating: false, count: all.count)
    let cutoffSquared = cutoff * cutoff
    for i in all.indices where inFirst[i] {
      deleted[i] = bins.firstNeighbor(of: all[i].x, within: cutoffSquared) { j, shifted in
        guard inSecond[j] else { return false }
        if !shifted { return j != i && !deleted[j] }
        return !(inSecond[i] && inFirst[j] && all[i].id > all[j].id)
      }
    }
    return Set(all.indices.filter { deleted[$0] }.map { all[$0].id })
  }
}

/// Atoms binned by fractional coordinate into cells at least `cutoff` wide across every pair of
/// faces (and no more cells than about one per atom), for finding every periodic image within the
/// cutoff, also when the cutoff exceeds the box.
private struct OverlapBins {
  let box: Box
  let positions: [SIMD3<Double>]
  let cells: SIMD3<Int>
  /// How many cells either side of an atom's own cell can hold an atom within the cutoff.
  let reach: SIMD3<Int>
  let members: [[Int]]

  init(box: Box, cutoff: Double, positions: [SIMD3<Double>]) {
    self.box = box
    self.positions = positions
    let face = box.faceDistance
    let most = Double(Int(cbrt(Double(positions.count))) + 1)
    var cells = SIMD3<Int>(repeating: 1), reach = SIMD3<Int>(repeating: 0)
    for d in 0..<3 where cutoff > 0 {
      cells[d] = max(1, Int(min(face[d] / cutoff, most)))
      reach[d] = Int((cutoff * Double(cells[d]) / face[d]).rounded(.up))
    }
    self.cells = cells
    self.reach = reach
    var members = [[Int]](repeating: [], count: cells.x * cells.y * cells.z)
    for (k, x) in positions.enumerated() { members[Self.flatIndex(Self.cell(of: x, box, cells), cells)].append(k) }
    self.members = members
  }

  static func cell(of x: SIMD3<Double>, _ box: Box, _ cells: SIMD3<Int>) -> SIMD3<Int> {
    let lambda = box.fractional(x)
    var c = SIMD3<Int>.zero
    for d in 0..<3 { c[d] = Int(min(max((lambda[d] * Double(cells[d])).rounded(.down), 0), Double(cells[d] - 1))) }
    return c
  }

  static func flatIndex(_ c: SIMD3<Int>, _ cells: SIMD3<Int>) -> Int { (c.z * cells.y + c.y) * cells.x + c.x }

  /// Whether `accept(j, shifted)` holds for some atom j or periodic image of it closer than
  /// √`cutoffSquared` to `x` (`shifted`: the image is translated by a box vector).
  func firstNeighbor(of x: SIMD3<Double>, within cutoffSquared: Double, _ accept: (Int, Bool) -> Bool) -> Bool {
    let home = Self.cell(of: x, box, cells)
    func range(_ d: Int) -> ClosedRange<Int> { (home[d] - reach[d])...(home[d] + reach[d]) }
    for uz in range(2) {
      for uy in range(1) {
        for ux in range(0) {
          let u = SIMD3(ux, uy, uz)
          var own = SIMD3<Int>.zero, shift = SIMD3<Double>.zero, outside = false
          for d in 0..<3 {
            let n = Int((Double(u[d]) / Double(cells[d])).rounded(.down))
            if n != 0 && !box.periodic[d] { outside = true }
            own[d] = u[d] - n * cells[d]
            shift[d] = Double(n)
          }
          if outside { continue }
          let translation = box.translation(shift), shifted = shift != .zero
          for j in members[Self.flatIndex(own, cells)] {
            let delta = x - (positions[j] + translation)
            if (delta * delta).sum() < cutoffSquared && accept(j, shifted) { return true }
          }
        }
      }
    }
    return false
  }
}
