import Geometry
import Potentials
import XCTest

/// lj/cut forces and virial against central finite differences of the energy.
final class LennardJonesTests: XCTestCase {
  let potential = LennardJones(
    typeCount: 1, pairs: [[nil, nil], [nil, LennardJonesPair(epsilon: 1.0, sigma: 1.0, cutoff: 2.5)]], shift: true)

  let boxes: [(String, Box)] = [
    ("orthogonal", Box(lo: SIMD3(-1, 0, 2), hi: SIMD3(5.1, 5.7, 8.3))),
    ("triclinic", Box(lo: .zero, hi: SIMD3(5.4, 5.9, 6.2), xy: 1.3, xz: -0.8, yz: 0.6)),
  ]

  func testForcesAreMinusEnergyGradient() throws {
    for (name, box) in boxes {
      let x = randomPositions(40, box: box, minimumDistance: 0.9, seed: 7)
      let base = try evaluate(x, box: box, potential: potential)
      let h = 1e-6
      for i in [0, 5, 17, 39] {
        for d in 0..<3 {
          var plus = x, minus = x
          plus[i][d] += h
          minus[i][d] -= h
          let derivative = (try evaluate(plus, box: box, potential: potential).energy
            - evaluate(minus, box: box, potential: potential).energy) / (2 * h)
          XCTAssertEqual(base.forces[3 * i + d], -derivative, accuracy: 1e-6 * max(1, abs(derivative)),
                         "\(name): atom \(i) dimension \(d)")
        }
      }
      // Newton's third law across periodic images: the total force vanishes.
      for d in 0..<3 {
        let total = stride(from: d, to: base.forces.count, by: 3).reduce(0.0) { $0 + base.forces[$1] }
        XCTAssertEqual(total, 0, accuracy: 1e-10, name)
      }
    }
  }

  /// W_ab = −∂E/∂ε_ab for a homogeneous strain x → (I + ε)x of positions and box; upper-triangular
  /// ε keeps the box in LAMMPS's form, and the pair virial is symmetric.
  func testVirialIsMinusStrainDerivative() throws {
    for (name, box) in boxes {
      let x = randomPositions(40, box: box, minimumDistance: 0.9, seed: 11)
      let base = try evaluate(x, box: box, potential: potential)
      let components = [(0, 0), (1, 1), (2, 2), (0, 1), (0, 2), (1, 2)]  // LAMMPS order
      for (k, (a, b)) in components.enumerated() {
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
          return try evaluate(x.map(apply), box: deformed, potential: potential).energy
        }
        let h = 1e-6
        let derivative = (try strained(h) - strained(-h)) / (2 * h)
        XCTAssertEqual(base.virial[k], -derivative, accuracy: 1e-6 * max(1, abs(derivative)), "\(name): component \(k)")
      }
    }
  }
}
