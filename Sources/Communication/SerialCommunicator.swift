#if canImport(Glibc)
import Glibc
#endif

/// A single rank: every swap is with itself (a copy), every reduction the identity.
public final class SerialCommunicator: Communicator {
  public init() {}
  public var rank: Int { 0 }
  public var size: Int { 1 }

  public func sendReceive(_ outgoing: UnsafeBufferPointer<Double>, to destination: Int,
                          into incoming: inout [Double], from source: Int) -> Int {
    if incoming.count < outgoing.count { incoming = [Double](repeating: 0, count: outgoing.count) }
    incoming.withUnsafeMutableBufferPointer { dst in
      for i in 0..<outgoing.count { dst[i] = outgoing[i] }
    }
    return outgoing.count
  }

  public func sendReceive(_ outgoing: UnsafeBufferPointer<Double>, to destination: Int,
                          into incoming: UnsafeMutableBufferPointer<Double>, from source: Int) {
    for i in 0..<incoming.count { incoming[i] = outgoing[i] }
  }

  public var traffic: CommunicationTraffic { CommunicationTraffic() }

  public func allReduce(_ values: UnsafeMutableBufferPointer<Double>, _ op: ReductionOp) {}
  public func gather(_ values: [Double], root: Int) -> [Double] { values }
  public func allGatherBytes(_ bytes: [UInt8]) -> [[UInt8]] { [bytes] }
  public func barrier() {}
  public func split(color: Int) -> Communicator { self }
  public func abort(exitCode: Int32) -> Never { exit(exitCode) }
}




