import Communication
import TesseraTestSupport
import XCTest

/// The in-process communicator the lower modules' tests run on: its collectives give what MPI's give
/// (and what `SerialCommunicator` gives on one rank), its messages arrive in order from the right
/// rank, its traffic is counted as `MPICommunicator` counts it, and a mismatched exchange fails the
/// test instead of hanging it.
final class ThreadedCommunicatorTests: XCTestCase {
  /// A value only rank r of n holds, distinct across ranks and not symmetric in r.
  static func value(rank r: Int, _ k: Int) -> Double { Double(r * r + 3 * k) - 0.25 * Double(k * r) }

  func testReductionsOverRanks() throws {
    for n in 1...8 {
      let results = try runRanks(n) { comm -> [[Double]] in
        var sum = [Self.value(rank: comm.rank, 0), Self.value(rank: comm.rank, 1)]
        var most = sum, least = sum
        comm.allReduce(&sum, .sum)
        comm.allReduce(&most, .max)
        comm.allReduce(&least, .min)
        return [sum, most, least, [Double(comm.allReduce(comm.rank + 1, .sum))]]
      }
      XCTAssertEqual(results.count, n)
      for k in 0..<2 {
        let values = (0..<n).map { Self.value(rank: $0, k) }
        for (rank, result) in results.enumerated() {
          XCTAssertEqual(result[0][k], values.reduce(0, +), "sum, \(n) ranks, rank \(rank)")
          XCTAssertEqual(result[1][k], values.max(), "max, \(n) ranks, rank \(rank)")
          XCTAssertEqual(result[2][k], values.min(), "min, \(n) ranks, rank \(rank)")
        }
      }
      XCTAssertEqual(results.map { $0[3][0] }, Array(repeating: Double(n * (n + 1) / 2), count: n))
    }
  }

  /// One rank behaves as `SerialCommunicator`: reductions are the identity, gathers return the input.
  func testOneRankActsAsTheSerialCommunicator() throws {
    let serial = SerialCommunicator()
    let input = [1.5, -2.0, 7.25]
    let threaded = try runRanks(1) { comm -> [[Double]] in
      var sum = input
      comm.allReduce(&sum, .sum)
      return [sum, comm.gather(input, root: 0), comm.allGatherBytes([4, 5]).flatMap { $0.map(Double.init) }]
    }[0]
    var serialSum = input
    serial.allReduce(&serialSum, .sum)
    XCTAssertEqual(threaded, [serialSum, serial.gather(input, root: 0), serial.allGatherBytes([4, 5]).flatMap { $0.map(Double.init) }])
  }

  func testGatherIsInRankOrderOnTheRootOnly() throws {
    let results = try runRanks(4) { comm in
      // Rank r contributes r copies of r (rank 0 nothing): the lengths differ, so order shows.
      comm.gather(Array(repeating: Double(comm.rank), count: comm.rank), root: 2)
    }
    XCTAssertEqual(results[2], [1, 2, 2, 3, 3, 3])
    for rank in [0, 1, 3] { XCTAssertEqual(results[rank], [], "rank \(rank)") }
    let bytes = try runRanks(3) { comm in comm.allGatherBytes(Array(repeating: UInt8(10 + comm.rank), count: 2 - comm.rank)) }
    for rank in 0..<3 { XCTAssertEqual(bytes[rank], [[10, 10], [11], []], "rank \(rank)") }
  }

  /// A ring: every rank sends right and receives from the left, several messages in a row (they must
  /// arrive in the order sent), with the counted form growing the receive buffer.
  func testMessagesArriveInOrderFromTheirSource() throws {
    let results = try runRanks(5) { comm -> [[Double]] in
      let right = (comm.rank + 1) % comm.size, left = (comm.rank + comm.size - 1) % comm.size
      var received: [[Double]] = []
      for round in 0..<3 {
        let outgoing = Array(repeating: Double(100 * comm.rank + round), count: round + 1)
        var incoming: [Double] = []
        let n = outgoing.withUnsafeBufferPointer { comm.sendReceive($0, to: right, into: &incoming, from: left) }
        received.append(Array(incoming[0..<n]))
      }
      var known = [Double](repeating: 0, count: 2)
      [Double(comm.rank), -1].withUnsafeBufferPointer { out in
        known.withUnsafeMutableBufferPointer { comm.sendReceive(out, to: left, into: $0, from: right) }
      }
      return received + [known]
    }
    for (rank, received) in results.enumerated() {
      let left = (rank + 4) % 5
      XCTAssertEqual(received[0..<3].map { $0 }, (0..<3).map { Array(repeating: Double(100 * left + $0), count: $0 + 1) })
      XCTAssertEqual(received[3], [Double((rank + 1) % 5), -1])
    }
  }

  /// MPICommunicator's counting: the counted form is two messages (an Int64 count, then the data), the
  /// known-count form one; bytes are what this rank sent; every collective counts once.
  func testTrafficIsCountedAsMPICommunicatorCountsIt() throws {
    let traffic = try runRanks(2) { comm -> CommunicationTraffic in
      let other = 1 - comm.rank
      let outgoing = Array(repeating: 1.0, count: 3 + comm.rank)
      var incoming: [Double] = []
      _ = outgoing.withUnsafeBufferPointer { comm.sendReceive($0, to: other, into: &incoming, from: other) }
      var known = [Double](repeating: 0, count: 3 + other)
      outgoing.withUnsafeBufferPointer { out in known.withUnsafeMutableBufferPointer { comm.sendReceive(out, to: other, into: $0, from: other) } }
      comm.barrier()
      _ = comm.allReduce(1.0, .sum)
      _ = comm.gather([1], root: 0)
      _ = comm.allGatherBytes([1])
      return comm.traffic
    }
    for rank in 0..<2 {
      XCTAssertEqual(traffic[rank].messages, 3, "rank \(rank)")
      XCTAssertEqual(traffic[rank].bytes, 8 + 2 * 8 * (3 + rank), "rank \(rank)")
      XCTAssertEqual(traffic[rank].collectives, 4, "rank \(rank)")
    }
  }

  /// Colours group ranks keeping their order; the groups' collectives stay within each group.
  func testSplitGroupsRanksByColour() throws {
    let results = try runRanks(6) { comm -> [Double] in
      let group = comm.split(color: comm.rank % 3 == 0 ? 7 : 2)
      let sum = group.allReduce(Double(comm.rank), .sum)
      // A second split of the group, to check that splits are told apart.
      let pairs = group.split(color: group.rank / 2)
      return [Double(group.rank), Double(group.size), sum, Double(pairs.size), pairs.allReduce(Double(comm.rank), .max)]
    }
    // Colour 7: ranks 0, 3; colour 2: ranks 1, 2, 4, 5.
    let expected: [[Double]] = [[0, 2, 3, 2, 3], [0, 4, 12, 2, 2], [1, 4, 12, 2, 2],
                                [1, 2, 3, 2, 3], [2, 4, 12, 2, 5], [3, 4, 12, 2, 5]]
    XCTAssertEqual(results, expected)
  }

  /// A rank waiting for a message nobody sends fails the call after the timeout, naming who waits.
  func testAMissingMessageTimesOutInsteadOfHanging() {
    let start = Date()
    XCTAssertThrowsError(try runRanks(2, timeout: 1) { comm in
      if comm.rank == 0 {
        var incoming: [Double] = []
        _ = [1.0].withUnsafeBufferPointer { comm.sendReceive($0, to: 1, into: &incoming, from: 1) }
      }
    }) { error in
      XCTAssertTrue("\(error)".contains("rank 0 in sendReceive (counted) from rank 1"), "\(error)")
    }
    XCTAssertLessThan(Date().timeIntervalSince(start), 10)
  }

  /// A rank that throws stops the others at their next communication; the error names it.
  func testAThrowingRankFailsTheRun() {
    struct Refused: Error {}
    XCTAssertThrowsError(try runRanks(3, timeout: 10) { comm in
      if comm.rank == 1 { throw Refused() }
      comm.barrier()
    }) { error in
      XCTAssertTrue("\(error)".contains("rank 1 threw: Refused"), "\(error)")
    }
  }

  /// What MPI leaves undefined fails the run with the rank's message: a message longer or shorter than
  /// the receiver expects, a partner outside the communicator, reductions of different lengths.
  func testMisuseFailsTheRun() {
    for (misuse, message) in [(0, "received 3 doubles from rank"), (1, "to rank 2 from rank 2 of a 2-rank communicator"),
                              (2, "allReduce of")] {
      XCTAssertThrowsError(try runRanks(2, timeout: 10) { comm in
        switch misuse {
        case 0:
          var incoming = [Double](repeating: 0, count: 2)
          [1.0, 2, 3].withUnsafeBufferPointer { out in
            incoming.withUnsafeMutableBufferPointer { comm.sendReceive(out, to: 1 - comm.rank, into: $0, from: 1 - comm.rank) }
          }
        case 1:
          var incoming: [Double] = []
          _ = [1.0].withUnsafeBufferPointer { comm.sendReceive($0, to: 2, into: &incoming, from: 2) }
        default:
          var values = [Double](repeating: 1, count: 1 + comm.rank)
          comm.allReduce(&values, .sum)
        }
      }) { error in
        XCTAssertTrue("\(error)".contains(message), "\(error)")
      }
    }
  }

  func testAbortFailsTheRun() {
    XCTAssertThrowsError(try runRanks(2, timeout: 10) { comm in
      if comm.rank == 0 { comm.abort(exitCode: 3) }
      comm.barrier()
    }) { error in
      XCTAssertTrue("\(error)".contains("rank 0 called abort(exitCode: 3)"), "\(error)")
    }
  }
}
