import Atoms
import Communication
import Decomposition
import Geometry
import Neighbors
import Potentials
import TesseraTestSupport
import XCTest

/// EAM forces and virial against central finite differences of the energy, for each file layout
/// (funcfl with two files mixed, setfl, Finnis–Sinclair) in orthogonal and triclinic periodic
/// boxes small enough that every atom has ghosts (ρ reverse-summed and F' forwarded on one rank's
/// self-swaps); and per-atom energies summing to the total.
final class EmbeddedAtomTests: XCTestCase {
  func potential(_ style: EmbeddedAtomSetup.Style) throws -> EmbeddedAtom {
    var setup = EmbeddedAtomSetup(style: style, typeCount: 2)
    switch style {
    case .funcfl:
      _ = try setup.assignFuncfl(path: inputPath("eam/Cu_u3.eam"), first: 1...1, second: 1...1)
      _ = try setup.assignFuncfl(path: inputPath("eam/Ni_u3.eam"), first: 2...2, second: 2...2)
    case .setfl:
      _ = try setup.assignElements(path: inputPath("eam/AlCu.eam.alloy"), elements: ["Al", "Cu"])
    case .finnisSinclair:
      _ = try setup.assignElements(path: inputPath("eam/NiAlH_jea.eam.fs"), elements: ["Ni", "Al"])
    }
    return try setup.makePotential()
  }

  let boxes: [(String, Box)] = [
    ("orthogonal", Box(lo: SIMD3(-1, 0, 2), hi: SIMD3(8.1, 8.7, 9.3))),
    ("triclinic", Box(lo: .zero, hi: SIMD3(8.4, 8.9, 9.2), xy: 1.3, xz: -0.8, yz: 0.6)),
  ]

  /// 40 atoms of two types at least 1.9 Å apart: a dense, disordered metal.
  func configuration(_ box: Box, seed: UInt64) -> (positions: [SIMD3<Double>], types: [Int32]) {
    let x = randomPositions(40, box: box, minimumDistance: 1.9, seed: seed)
    return (x, x.indices.map { $0 % 3 == 0 ? 2 : 1 })
  }

  func evaluate(_ x: [SIMD3<Double>], types: [Int32], box: Box, _ potential: EmbeddedAtom,
                perAtom: Bool = false) throws -> (Evaluation, [Double]) {
    let atoms = makeAtoms(x, types: types)
    let comm = SerialCommunicator()
    let halo = HaloExchange()
    halo.borders(atoms, box: box, grid: ProcessorGrid(counts: SIMD3(1, 1, 1), rank: 0), cutoff: potential.cutoff + 0.5, comm: comm)
    let list = NeighborList(kind: potential.neighborKind, cutoff: potential.cutoff + 0.5)
    list.build(atoms, box: box)
    atoms.clearForces()
    let ev = try potential.compute(atoms, list, box, perAtom ? [.energy, .virial, .perAtomEnergy] : [.energy, .virial],
                                   ghosts: halo.rows(comm: comm))
    halo.reverseForces(atoms, comm: comm)
    var energies = potential.perAtomEnergy ?? []
    if perAtom { energies.withUnsafeMutableBufferPointer { halo.reverse($0.baseAddress!, width: 1, comm: comm) } }
    XCTAssertGreaterThan(atoms.ghostCount, atoms.ownedCount, "the box should be small enough for ghosts to matter")
    return (Evaluation(energy: ev.energy, virial: ev.virial.elements,
                       forces: Array(UnsafeBufferPointer(start: atoms.force, count: 3 * atoms.ownedCount))),
            Array(energies.prefix(atoms.ownedCount)))
  }

  func testForcesAreMinusEnergyGradient() throws {
    for style in EmbeddedAtomSetup.Style.allCases {
      let eam = try potential(style)
      for (name, box) in boxes {
        let (x, types) = configuration(box, seed: 7)
        let (base, _) = try evaluate(x, types: types, box: box, eam)
        let h = 1e-6
        for i in [0, 4, 17, 39] {
          for d in 0..<3 {
            var plus = x, minus = x
            plus[i][d] += h
            minus[i][d] -= h
            let derivative = (try evaluate(plus, types: types, box: box, eam).0.energy
              - evaluate(minus, types: types, box: box, eam).0.energy) / (2 * h)
            XCTAssertEqual(base.forces[3 * i + d], -derivative, accuracy: 1e-6 * max(1, abs(derivative)),
                           "\(style.rawValue), \(name): atom \(i) dimension \(d)")
          }
        }
        XCTAssertGreaterThan(base.forces.map(abs).max()!, 0.1, "\(style.rawValue), \(name): forces should not vanish")
        for d in 0..<3 {
          let total = stride(from: d, to: base.forces.count, by: 3).reduce(0.0) { $0 + base.forces[$1] }
          XCTAssertEqual(total, 0, accuracy: 1e-10, "\(style.rawValue), \(name): total force")
        }
      }
    }
  }

  /// W_ab = −∂E/∂ε_ab for a homogeneous strain x → (I + ε)x of positions and box.
  func testVirialIsMinusStrainDerivative() throws {
    for style in EmbeddedAtomSetup.Style.allCases {
      let eam = try potential(style)
      for (name, box) in boxes {
        let (x, types) = configuration(box, seed: 11)
        let (base, _) = try evaluate(x, types: types, box: box, eam)
        for (k, (a, b)) in [(0, 0), (1, 1), (2, 2), (0, 1), (0, 2), (1, 2)].enumerated() {
          func strained(_ e: Double) throws -> Double {
            var strain = [[1.0, 0, 0], [0, 1.0, 0], [0, 0, 1.0]]
            strain[a][b] += e
            func apply(_ v: SIMD3<Double>) -> SIMD3<Double> {
              SIMD3((0..<3).map { r in (0..<3).reduce(0.0) { $0 + strain[r][$1] * v[$1] } })
            }
            let edges = [SIMD3(box.length.x, 0, 0), SIMD3(box.xy, box.length.y, 0), SIMD3(box.xz, box.yz, box.length.z)].map(apply)
            let lo = apply(box.lo)
            let deformed = Box(lo: lo, hi: lo + SIMD3(edges[0].x, edges[1].y, edges[2].z),
                               xy: edges[1].x, xz: edges[2].x, yz: edges[2].y)
            return try evaluate(x.map(apply), types: types, box: deformed, eam).0.energy
          }
          let h = 1e-6
          let derivative = (try strained(h) - strained(-h)) / (2 * h)
          XCTAssertEqual(base.virial[k], -derivative, accuracy: 1e-6 * max(1, abs(derivative)),
                         "\(style.rawValue), \(name): component \(k)")
        }
      }
    }
  }

  /// Per-atom energies (embedding plus half of each pair term, ghosts' halves folded back) sum to
  /// the total, and the request changes neither energy nor forces.
  func testPerAtomEnergiesSumToTotal() throws {
    for style in EmbeddedAtomSetup.Style.allCases {
      let eam = try potential(style)
      let box = boxes[1].1
      let (x, types) = configuration(box, seed: 3)
      let (plain, _) = try evaluate(x, types: types, box: box, eam)
      let (withEnergies, energies) = try evaluate(x, types: types, box: box, eam, perAtom: true)
      XCTAssertEqual(energies.count, x.count, style.rawValue)
      XCTAssertEqual(energies.reduce(0, +), withEnergies.energy, accuracy: 1e-10 * abs(withEnergies.energy), style.rawValue)
      XCTAssertEqual(plain.energy, withEnergies.energy, style.rawValue)
      XCTAssertEqual(plain.forces, withEnergies.forces, style.rawValue)
    }
  }
}
