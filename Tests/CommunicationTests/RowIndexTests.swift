import Communication
import TesseraTestSupport
import XCTest

/// `RowIndex` against a sort of every id: on 1 to 4 ranks, each holding an interleaved share, the row of
/// every id is its position among all ids, for ids 1…N, for gappy ids (the bitmap) and for a few ids
/// spread up to 2⁴⁰ (gathered and sorted); duplicate and out-of-range ids are errors on every rank.
final class RowIndexTests: XCTestCase {
  /// Each rank's ids (every `size`-th of `ids`, starting at its rank) and the rows it computes for them.
  func rows(of ids: [Int64], ranks: Int) throws -> [[Int64: Int]] {
    try runRanks(ranks) { comm -> [Int64: Int] in
      let mine = stride(from: comm.rank, to: ids.count, by: comm.size).map { ids[$0] }
      let index = try mine.withUnsafeBufferPointer { try RowIndex(ids: $0, total: ids.count, comm: comm) }
      return Dictionary(uniqueKeysWithValues: mine.map { ($0, index.row(of: $0)) })
    }
  }

  func assertRowsAreSortedPositions(_ ids: [Int64], _ label: String, file: StaticString = #filePath, line: UInt = #line) throws {
    let expected = Dictionary(uniqueKeysWithValues: ids.sorted().enumerated().map { ($1, $0) })
    for ranks in 1...4 {
      let perRank = try rows(of: ids, ranks: ranks)
      XCTAssertEqual(perRank.count, ranks, file: file, line: line)
      let all = perRank.reduce(into: [Int64: Int]()) { $0.merge($1) { a, _ in a } }
      XCTAssertEqual(all, expected, "\(label), \(ranks) ranks", file: file, line: line)
    }
  }

  func testDenseIds() throws {
    try assertRowsAreSortedPositions((1...37).reversed().map(Int64.init), "ids 1…37")
  }

  func testGappyIdsUseTheBitmap() throws {
    try assertRowsAreSortedPositions((0..<200).map { Int64(7 * $0 + 3) }.shuffled(), "ids 3, 10, 17, …")
  }

  func testIdsFarBeyondTheAtomCount() throws {
    try assertRowsAreSortedPositions([5, 1 << 39, 2, 1 << 38 + 17, 99, (1 << 40) - 1], "ids up to 2^40 - 1")
  }

  func testDuplicateAndOutOfRangeIdsAreErrors() throws {
    for (ids, message) in [([1, 4, 4, 9] as [Int64], "not unique"), ([3, 1 << 39, 3], "not unique"),
                           ([0, 2, 3], "1…2^40"), ([1, 1 << 41], "1…2^40")] {
      for ranks in [1, 3] {
        XCTAssertThrowsError(try rows(of: ids, ranks: ranks), "\(ids)") { error in
          XCTAssertTrue("\(error)".contains(message), "\(ids), \(ranks) ranks: \(error)")
        }
      }
    }
  }
}
