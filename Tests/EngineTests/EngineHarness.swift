import Atoms
import Communication
import Decomposition
import Geometry
import Neighbors
import Potentials
import TesseraTestSupport

/// One rank's full force pipeline on a fresh copy of the positions: ghosts, list, forces folded back.
struct Evaluation {
  var energy: Double
  var virial: [Double]
  var forces: [Double]
}

func makeAtoms(_ positions: [SIMD3<Double>], types: [Int32]? = nil) -> AtomStore {
  let atoms = AtomStore()
  for (i, x) in positions.enumerated() {
    atoms.appendOwned(tag: Int64(i + 1), type: types?[i] ?? 1, position: x)
  }
  return atoms
}

func evaluate(_ positions: [SIMD3<Double>], box: Box, potential: Potential, skin: Double = 0.3) throws -> Evaluation {
  let atoms = makeAtoms(positions)
  let comm = SerialCommunicator()
  let grid = ProcessorGrid(counts: SIMD3(1, 1, 1), rank: 0)
  let halo = HaloExchange()
  halo.borders(atoms, box: box, grid: grid, cutoff: potential.cutoff + skin, comm: comm)
  let list = NeighborList(kind: potential.neighborKind, cutoff: potential.cutoff + skin)
  list.build(atoms, box: box)
  atoms.clearForces()
  let ev = try potential.compute(atoms, list, box, [.energy, .virial], ghosts: halo.rows(comm: comm))
  halo.reverseForces(atoms, comm: comm)
  return Evaluation(energy: ev.energy, virial: ev.virial.elements,
                    forces: Array(UnsafeBufferPointer(start: atoms.force, count: 3 * atoms.ownedCount)))
}

/// Random positions inside a box, at least `minimumDistance` apart (minimum image).
func randomPositions(_ count: Int, box: Box, minimumDistance: Double, seed: UInt64) -> [SIMD3<Double>] {
  var generator = SeededRandom(seed: seed)
  var result: [SIMD3<Double>] = []
  while result.count < count {
    let f = SIMD3(generator.uniform(), generator.uniform(), generator.uniform())
    let x = box.lo + box.cartesian(fromFractional: f)
    let farEnough = result.allSatisfy { y in
      let d = box.minimumImage(x - y)
      return (d * d).sum() > minimumDistance * minimumDistance
    }
    if farEnough { result.append(x) }
  }
  return result
}
