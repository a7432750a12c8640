import CBLAS

/// The scalar types the networks run in (`precision float64|float32`): Double through `dgemm`,
/// Float through `sgemm` (twice the lanes per instruction). Generic code over it is specialised
/// per type within the module (whole-module optimisation in release), so the hot loops have no
/// dynamic dispatch.
protocol NetworkScalar: BinaryFloatingPoint, SIMDScalar, Sendable {
  /// C = op(A)·op(B) + beta·C, row-major, with leading dimensions as BLAS takes them.
  static func gemm(transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int, _ a: UnsafePointer<Self>, lda: Int,
                   _ b: UnsafePointer<Self>, ldb: Int, beta: Self, _ c: UnsafeMutablePointer<Self>, ldc: Int)
}

extension Double: NetworkScalar {
  @inline(__always)
  static func gemm(transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int, _ a: UnsafePointer<Double>, lda: Int,
                   _ b: UnsafePointer<Double>, ldb: Int, beta: Double, _ c: UnsafeMutablePointer<Double>, ldc: Int) {
    cblas_dgemm(CblasRowMajor, transposeA ? CblasTrans : CblasNoTrans, transposeB ? CblasTrans : CblasNoTrans,
                blasint(m), blasint(n), blasint(k), 1, a, blasint(lda), b, blasint(ldb), beta, c, blasint(ldc))
  }
}

extension Float: NetworkScalar {
  @inline(__always)
  static func gemm(transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int, _ a: UnsafePointer<Float>, lda: Int,
                   _ b: UnsafePointer<Float>, ldb: Int, beta: Float, _ c: UnsafeMutablePointer<Float>, ldc: Int) {
    cblas_sgemm(CblasRowMajor, transposeA ? CblasTrans : CblasNoTrans, transposeB ? CblasTrans : CblasNoTrans,
                blasint(m), blasint(n), blasint(k), 1, a, blasint(lda), b, blasint(ldb), beta, c, blasint(ldc))
  }
}

/// C = A·B (or A·Bᵀ) + beta·C for row-major matrices: A is m×k, B is k×n (n×k when transposed),
/// C is m×n. The networks' layers are this product over a batch of rows.
@inline(__always)
func multiply<S: NetworkScalar>(_ a: UnsafePointer<S>, _ b: UnsafePointer<S>, into c: UnsafeMutablePointer<S>,
                                m: Int, n: Int, k: Int, transposeB: Bool = false, accumulate: Bool = false) {
  if m == 0 || n == 0 { return }
  S.gemm(transposeA: false, transposeB: transposeB, m: m, n: n, k: k, a, lda: k, b, ldb: transposeB ? k : n,
         beta: accumulate ? 1 : 0, c, ldc: n)
}

/// Memory for `count` values, zeroed: the fixed buffers allocated once at set-up.
func zeroedBuffer<T: Numeric>(_ count: Int) -> UnsafeMutablePointer<T> {
  let p = UnsafeMutablePointer<T>.allocate(capacity: count)
  p.initialize(repeating: 0, count: count)
  return p
}
