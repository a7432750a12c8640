extension SIMD4 where Scalar == Double {
  /// The first `lanes` (1…4) values at `p`, zeros after them: the tail of a row whose length is
  /// not a multiple of four.
  @inline(__always)
  init(loading p: UnsafePointer<Double>, lanes: Int) {
    if lanes == 4 {
      self = UnsafeRawPointer(p).loadUnaligned(as: SIMD4<Double>.self)
    } else {
      self.init()
      for lane in 0..<lanes { self[lane] = p[lane] }
    }
  }

  /// Writes the first `lanes` (1…4) lanes to `p`.
  @inline(__always)
  func store(to p: UnsafeMutablePointer<Double>, lanes: Int) {
    if lanes == 4 {
      UnsafeMutableRawPointer(p).storeBytes(of: self, as: SIMD4<Double>.self)
    } else {
      for lane in 0..<lanes { p[lane] = self[lane] }
    }
  }
}
