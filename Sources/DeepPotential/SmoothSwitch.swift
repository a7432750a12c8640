/// DeePMD-kit's smooth switch s(r) and its slope (spec §3.1): 1 below r_s, 0 beyond r_c, C² in
/// between — shared by every descriptor and by the tabulation's range.
@inline(__always)
func smoothSwitch(_ r: Double, smoothingStart rs: Double, cutoff rc: Double) -> (value: Double, slope: Double) {
  if r <= rs { return (1, 0) }
  if r >= rc { return (0, 0) }
  let u = (r - rs) / (rc - rs)
  let value = u * u * u * (-6 * u * u + 15 * u - 10) + 1
  let slope = -30 * u * u * (1 - u) * (1 - u) / (rc - rs)
  return (value, slope)
}
