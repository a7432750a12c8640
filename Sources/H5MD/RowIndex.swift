import Communication

/// Where each atom's row lies in an H5MD value dataset or a netcdf/mpiio variable: the position of its id
/// in the sorted list of every id, so files do not depend on the rank count. Ids 1…N (create_atoms, read_data of most files) map to
/// row id − 1; otherwise every rank marks its ids in a shared bitmap and a row is the number of marked ids
/// below it (an exclusive prefix count) — no rank ever holds the other ranks' atoms.
public struct RowIndex {
  private var dense = true
  /// For sparse ids: bit `id % 52` of word `id / 52` is set when the id exists (52 bits fit a double
  /// exactly, so the bitmap is summed over ranks as doubles), and the ids below each word.
  private var words: [UInt64] = []
  private var idsBefore: [Int] = []
  private static let bitsPerWord = 52

  /// Builds the index for the ids on every rank; `ids` are this rank's, `total` their number over all ranks.
  public init(ids: UnsafeBufferPointer<Int64>, total: Int, comm: Communicator) throws {
    var extremes = [Double(ids.max() ?? 0), -Double(ids.min() ?? Int64.max)]
    comm.allReduce(&extremes, .max)
    let maxID = Int(extremes[0]), minID = Int(-extremes[1])
    dense = minID == 1 && maxID == total
    if dense { return }
    guard minID >= 1, maxID < 1 << 40 else {
      throw H5MDError("atom ids must lie in 1…2^40 for an h5md dump (found \(minID)…\(maxID))")
    }
    let w = RowIndex.bitsPerWord
    var bitmap = [Double](repeating: 0, count: maxID / w + 1)
    var local = [UInt64](repeating: 0, count: bitmap.count)
    for id in ids { local[Int(id) / w] |= 1 << UInt64(Int(id) % w) }
    for k in local.indices { bitmap[k] = Double(local[k]) }
    // Ids are unique, so the ranks' bits never overlap and the sum is their union.
    comm.allReduce(&bitmap, .sum)
    words = bitmap.map { UInt64($0) }
    idsBefore = [Int](repeating: 0, count: words.count)
    var running = 0
    for k in words.indices {
      idsBefore[k] = running
      running += words[k].nonzeroBitCount
    }
    guard running == total else {
      throw H5MDError("atom ids are not unique (\(total) atoms, \(running) distinct ids)")
    }
  }

  public func row(of id: Int64) -> Int {
    if dense { return Int(id) - 1 }
    let w = RowIndex.bitsPerWord, k = Int(id) / w
    let below = words[k] & ((1 << UInt64(Int(id) % w)) - 1)
    return idsBefore[k] + below.nonzeroBitCount
  }
}
