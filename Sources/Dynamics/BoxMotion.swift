import Foundation
import Geometry

/// How a barostat's strain rate ω̇ moves the box: LAMMPS `FixNH::remap`, the solution of ḣ = ω̇·h for
/// the upper-triangular cell h, split so that the step is time-symmetric (tilts half, lengths,
/// tilts half). Components are in LAMMPS's Voigt order: xx yy zz yz xz xy.
struct BoxMotion {
  /// Which components of ω̇ move the box.
  let controlled: [Bool]
  /// Whether the tilt factors have their own dynamics (`tri`).
  let tiltsEvolve: Bool
  /// Tilt factors carried along when their box length stretches (LAMMPS scalexy/scalexz/scaleyz), so
  /// that iso and aniso keep a tilted box's shape.
  let scalesXY, scalesXZ, scalesYZ: Bool
  /// The point the dilation leaves in place (kept by restarts: the midpoint of a dilated box is
  /// the fixed point only to round-off).
  var fixedPoint: SIMD3<Double>

  /// The box after `dt` of motion at strain rate `omegaDot`.
  func advance(_ box: Box, strainRate omegaDot: [Double], by dt: Double) -> Box {
    let (dt2, dt4, dt8) = (dt / 2, dt / 4, dt / 8)
    // LAMMPS updates the tilts in place but reads the lengths of the box as it was at the start:
    // they change only when the new box is set up at the end.
    let (ly, lz) = (box.length.y, box.length.z)
    var yz = box.yz, xz = box.xz, xy = box.xy
    func tiltHalfStep() {
      if controlled[4] {
        let expfac = exp(dt8 * omegaDot[0])
        xz = (xz * expfac + dt4 * (omegaDot[5] * yz + omegaDot[4] * lz)) * expfac
      }
      if controlled[3] {
        let expfac = exp(dt4 * omegaDot[1])
        yz = (yz * expfac + dt2 * (omegaDot[3] * lz)) * expfac
      }
      if controlled[5] {
        let expfac = exp(dt4 * omegaDot[0])
        xy = (xy * expfac + dt2 * (omegaDot[5] * ly)) * expfac
      }
      if controlled[4] {
        let expfac = exp(dt8 * omegaDot[0])
        xz = (xz * expfac + dt4 * (omegaDot[5] * yz + omegaDot[4] * lz)) * expfac
      }
    }
    if tiltsEvolve { tiltHalfStep() }
    var lo = box.lo, hi = box.hi
    for d in 0..<3 where controlled[d] {
      let expfac = exp(dt * omegaDot[d])
      lo[d] = (lo[d] - fixedPoint[d]) * expfac + fixedPoint[d]
      hi[d] = (hi[d] - fixedPoint[d]) * expfac + fixedPoint[d]
      if d == 1 && scalesXY { xy *= expfac }
      if d == 2 && scalesXZ { xz *= expfac }
      if d == 2 && scalesYZ { yz *= expfac }
    }
    if tiltsEvolve { tiltHalfStep() }
    return Box(lo: lo, hi: hi, xy: xy, xz: xz, yz: yz, periodic: box.periodic, triclinic: box.isTriclinic)
  }

  /// LAMMPS's bound on the tilts a barostat may reach (`TILTMAX`), in box lengths.
  static let tiltLimit = 1.5

  /// The first tilt of `new` beyond `tiltLimit` times its box length, in LAMMPS's order (yz, xz, xy),
  /// with the lengths of `old`, the box before the half step: LAMMPS checks the tilts in `remap`
  /// before the new lengths are set up.
  static func excessTilt(_ new: Box, lengthsOf old: Box) -> (name: String, tilt: Double, length: Double)? {
    func beyond(_ tilt: Double, _ length: Double) -> Bool { tilt < -tiltLimit * length || tilt > tiltLimit * length }
    if beyond(new.yz, old.length.y) { return ("yz", new.yz, old.length.y) }
    if beyond(new.xz, old.length.x) { return ("xz", new.xz, old.length.x) }
    if beyond(new.xy, old.length.x) { return ("xy", new.xy, old.length.x) }
    return nil
  }
}
