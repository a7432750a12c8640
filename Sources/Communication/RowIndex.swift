/// Ids that cannot be indexed: out of range or not unique.
public struct RowIndexError: Error, CustomStringConvertible, Sendable {
  public let description: String
  public init(_ description: String) { self.description = description }
}

/// The position of each atom's id in the sorted list of every id over all ranks: its row in an H5MD value
/// dataset or a netcdf/mpiio variable (so files do not depend on the rank count), and the consecutive
/// number create_atoms gives a new atom. Ids 1…N (create_atoms, read_data of most files) map to
/// row id − 1. Other ids that are not far sparser than the atoms are marked by every rank in a shared bitmap
/// and a row is the number of marked ids below it (an exclusive prefix count), so no rank holds the other
/// ranks' atoms; ids spread much wider than that (a few atoms with ids near 2⁴⁰) are gathered and sorted,
/// so the memory stays proportional to the atoms, never to the largest id.
public struct RowIndex {
  private enum Storage {
    case dense
    /// Bit `id % 52` of word `id / 52` is set when the id exists (52 bits fit a double exactly, so the
    /// bitmap is summed over ranks as doubles), and the number of ids below each word.
    case bitmap(words: [UInt64], idsBefore: [Int])
    case sorted([Int64])
  }
  private let storage: Storage
  private static let bitsPerWord = 52

  /// Builds the index for the ids on every rank; `ids` are this rank's, `total` their number over all ranks.
  public init(ids: UnsafeBufferPointer<Int64>, total: Int, comm: Communicator) throws {
    var extremes = [Double(ids.max() ?? 0), -Double(ids.min() ?? Int64.max)]
    comm.allReduce(&extremes, .max)
    let maxID = Int(extremes[0]), minID = Int(-extremes[1])
    if total == 0 || (minID == 1 && maxID == total) {
      storage = .dense
      return
    }
    guard minID >= 1, maxID < 1 << 40 else {
      throw RowIndexError("atom ids must lie in 1…2^40 (found \(minID)…\(maxID))")
    }
    let w = RowIndex.bitsPerWord, wordCount = maxID / w + 1
    if wordCount > 4 * total + 1 << 20 {
      storage = .sorted(try RowIndex.gatherSorted(ids, total: total, comm: comm))
      return
    }
    var local = [UInt64](repeating: 0, count: wordCount)
    for id in ids { local[Int(id) / w] |= 1 << UInt64(Int(id) % w) }
    var bitmap = local.map { Double($0) }
    // Ids are unique, so the ranks' bits never overlap and the sum is their union.
    comm.allReduce(&bitmap, .sum)
    let words = bitmap.map { UInt64($0) }
    var idsBefore = [Int](repeating: 0, count: words.count)
    var running = 0
    for k in words.indices {
      idsBefore[k] = running
      running += words[k].nonzeroBitCount
    }
    guard running == total else {
      throw RowIndexError("atom ids are not unique (\(total) atoms, \(running) distinct ids)")
    }
    storage = .bitmap(words: words, idsBefore: idsBefore)
  }

  private static func gatherSorted(_ ids: UnsafeBufferPointer<Int64>, total: Int, comm: Communicator) throws -> [Int64] {
    var all: [Int64] = []
    all.reserveCapacity(total)
    for part in comm.allGatherBytes([UInt8](UnsafeRawBufferPointer(ids))) {
      part.withUnsafeBytes { all.append(contentsOf: $0.bindMemory(to: Int64.self)) }
    }
    all.sort()
    for k in all.indices.dropFirst() where all[k] == all[k - 1] {
      throw RowIndexError("atom ids are not unique (id \(all[k]) appears twice)")
    }
    return all
  }

  public func row(of id: Int64) -> Int {
    switch storage {
    case .dense:
      return Int(id) - 1
    case let .bitmap(words, idsBefore):
      let w = RowIndex.bitsPerWord, k = Int(id) / w
      let below = words[k] & ((1 << UInt64(Int(id) % w)) - 1)
      return idsBefore[k] + below.nonzeroBitCount
    case let .sorted(all):
      var lo = 0, hi = all.count
      while lo < hi {
        let mid = (lo + hi) / 2
        if all[mid] < id { lo = mid + 1 } else { hi = mid }
      }
      return lo
    }
  }
}
