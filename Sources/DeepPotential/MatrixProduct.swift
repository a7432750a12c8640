import CBLAS

/// C = A·B (or A·Bᵀ) + beta·C for row-major matrices: A is m×k, B is k×n (n×k when transposed),
/// C is m×n. The networks' layers are this product over a batch of rows.
@inline(__always)
func multiply(_ a: UnsafePointer<Double>, _ b: UnsafePointer<Double>, into c: UnsafeMutablePointer<Double>,
              m: Int, n: Int, k: Int, transposeB: Bool = false, accumulate: Bool = false) {
  if m == 0 || n == 0 { return }
  cblas_dgemm(CblasRowMajor, CblasNoTrans, transposeB ? CblasTrans : CblasNoTrans,
              blasint(m), blasint(n), blasint(k), 1.0, a, blasint(k), b, blasint(transposeB ? k : n),
              accumulate ? 1.0 : 0.0, c, blasint(n))
}

/// C = Aᵀ·B + beta·C with A stored k×m and B k×n (row-major): contractions over neighbour slots.
@inline(__always)
func multiplyTransposedA(_ a: UnsafePointer<Double>, _ b: UnsafePointer<Double>,
                         into c: UnsafeMutablePointer<Double>, m: Int, n: Int, k: Int,
                         accumulate: Bool = false) {
  if m == 0 || n == 0 { return }
  cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, blasint(m), blasint(n), blasint(k), 1.0,
              a, blasint(m), b, blasint(n), accumulate ? 1.0 : 0.0, c, blasint(n))
}
