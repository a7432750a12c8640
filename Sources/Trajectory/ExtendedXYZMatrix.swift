// ASE's extxyz.py lists `SPECIAL_3_3_KEYS = {'Lattice', 'virial', 'stress'}`. Reading, it requires their
// value to be exactly 9 numbers and turns them into a matrix with `reshape((3, 3), order='F')`; writing, it
// flattens with `reshape(9, order='F')`. The file therefore holds these matrices column-major: the k-th
// number is M[k % 3][k / 3], so the row-major matrix is the transpose of the 9 numbers read row by row.
// `Lattice` is the same rule applied twice over: ASE stores the cell as the transpose of that matrix
// (`cell = info['Lattice'].T`), so its 9 numbers in file order are the cell vectors a, b, c as rows, which is
// what `ExtendedXYZFrame.lattice` holds. The frame keeps `virial` and `stress` as their raw 9 numbers in
// file order and converts only through the accessors below.

extension ExtendedXYZ {
  /// Info keys whose 9 numbers ASE reads and writes as a column-major 3×3 matrix.
  public static let columnMajorMatrixKeys: Set<String> = ["virial", "stress"]
}

extension ExtendedXYZFrame {
  /// The 3×3 matrix stored under `key` (`virial` or `stress`), row-major, as ASE's `atoms.info[key]` sees it;
  /// nil when the key is absent or not one of `ExtendedXYZ.columnMajorMatrixKeys`.
  public func matrix3x3(_ key: String) -> [Double]? {
    guard ExtendedXYZ.columnMajorMatrixKeys.contains(key), let fileOrder = info[key]?.nineNumbers else {
      return nil
    }
    return transposed3x3(fileOrder)
  }

  /// Stores a row-major 3×3 `matrix` under `key` (`virial` or `stress`) in the column-major file order ASE
  /// writes.
  public mutating func setMatrix3x3(_ matrix: [Double], for key: String) {
    precondition(ExtendedXYZ.columnMajorMatrixKeys.contains(key), "\(key) is not a 3×3 matrix key")
    precondition(matrix.count == 9, "a 3×3 matrix has 9 numbers, got \(matrix.count)")
    info[key] = .doubles(transposed3x3(matrix))
  }
}

extension ExtendedXYZValue {
  /// The value as 9 reals when it is a list of 9 numbers (ASE accepts integers and reals alike).
  var nineNumbers: [Double]? {
    switch self {
    case .doubles(let numbers) where numbers.count == 9: numbers
    case .integers(let numbers) where numbers.count == 9: numbers.map(Double.init)
    default: nil
    }
  }
}

private func transposed3x3(_ m: [Double]) -> [Double] {
  (0..<9).map { m[($0 % 3) * 3 + $0 / 3] }
}
