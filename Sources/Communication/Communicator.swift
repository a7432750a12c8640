/// Reduction operators for collective operations.
public enum ReductionOp: Sendable { case sum, max, min }

/// What one rank has put on the wire since its communicator was created: point-to-point messages
/// and their payload bytes, and the collectives it took part in. Copies to itself are not traffic.
public struct CommunicationTraffic: Sendable, Equatable {
  public var messages = 0
  public var bytes = 0
  public var collectives = 0
  public init() {}

  public static func - (a: Self, b: Self) -> Self {
    var d = Self()
    d.messages = a.messages - b.messages
    d.bytes = a.bytes - b.bytes
    d.collectives = a.collectives - b.collectives
    return d
  }
}

/// Point-to-point and collective operations over the ranks of one run.
///
/// The halo exchange only ever needs a paired send/receive (`sendReceive`), so a rank talks to one
/// neighbour per swap; everything global goes through reductions and gathers.
public protocol Communicator: AnyObject {
  var rank: Int { get }
  var size: Int { get }

  /// Sends `outgoing` to `destination` while receiving from `source` into `incoming`, which must be
  /// large enough; returns the number of doubles received. Counts are exchanged first.
  func sendReceive(_ outgoing: UnsafeBufferPointer<Double>, to destination: Int,
                   into incoming: inout [Double], from source: Int) -> Int
  /// `sendReceive` when the receiver already knows how many doubles arrive (`incoming.count`), as in
  /// every ghost refresh between rebuilds: one message each way instead of a count and the data.
  func sendReceive(_ outgoing: UnsafeBufferPointer<Double>, to destination: Int,
                   into incoming: UnsafeMutableBufferPointer<Double>, from source: Int)
  var traffic: CommunicationTraffic { get }
  func allReduce(_ values: UnsafeMutableBufferPointer<Double>, _ op: ReductionOp)
  /// Gathers every rank's doubles on `root` in rank order; other ranks get an empty array.
  func gather(_ values: [Double], root: Int) -> [Double]
  /// Gathers every rank's bytes on every rank in rank order.
  func allGatherBytes(_ bytes: [UInt8]) -> [[UInt8]]
  func barrier()
  /// The ranks that pass the same `color`, as a communicator of their own (ranks keep their order).
  /// Collective: every rank calls it.
  func split(color: Int) -> Communicator
  /// Ends every rank of the job at once; used when only this rank knows something went wrong.
  func abort(exitCode: Int32) -> Never
}

extension Communicator {
  public var isRoot: Bool { rank == 0 }

  public func allReduce(_ value: Double, _ op: ReductionOp) -> Double {
    var v: InlineArray<1, Double> = [value]
    allReduce(&v, op)
    return v[0]
  }

  /// A fixed number of values reduced in place: what a timestep reduces, without allocating.
  public func allReduce<let count: Int>(_ values: inout InlineArray<count, Double>, _ op: ReductionOp) {
    withUnsafeMutablePointer(to: &values) { storage in
      storage.withMemoryRebound(to: Double.self, capacity: count) {
        allReduce(UnsafeMutableBufferPointer(start: $0, count: count), op)
      }
    }
  }

  public func allReduce(_ value: Int, _ op: ReductionOp) -> Int {
    // Doubles represent every integer Tessera reduces (atom counts, flags) exactly below 2^53.
    Int(allReduce(Double(value), op))
  }

  public func allReduce(_ values: inout [Double], _ op: ReductionOp) {
    values.withUnsafeMutableBufferPointer { allReduce($0, op) }
  }

  /// Whether any rank passes `true`.
  public func any(_ flag: Bool) -> Bool { allReduce(flag ? 1 : 0, .max) > 0 }
}
