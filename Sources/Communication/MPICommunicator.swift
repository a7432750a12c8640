import CMPI
#if canImport(Glibc)
import Glibc
#endif

/// Open MPI over `MPI_COMM_WORLD`. Create one per process; `finalize()` before exit.
public final class MPICommunicator: Communicator {
  public let rank: Int
  public let size: Int
  private let comm: MPI_Comm
  public private(set) var traffic = CommunicationTraffic()

  public init() {
    var initialized: Int32 = 0
    MPI_Initialized(&initialized)
    if initialized == 0 { MPI_Init(nil, nil) }
    comm = tessera_comm_world()
    var r: Int32 = 0, s: Int32 = 0
    MPI_Comm_rank(comm, &r)
    MPI_Comm_size(comm, &s)
    rank = Int(r)
    size = Int(s)
  }

  /// A communicator over part of the ranks (`split`).
  private init(subset: MPI_Comm) {
    comm = subset
    var r: Int32 = 0, s: Int32 = 0
    MPI_Comm_rank(comm, &r)
    MPI_Comm_size(comm, &s)
    rank = Int(r)
    size = Int(s)
  }

  public func split(color: Int) -> Communicator {
    var subset: MPI_Comm?
    MPI_Comm_split(comm, Int32(color), Int32(rank), &subset)
    return MPICommunicator(subset: subset!)
  }

  public func finalize() {
    var finalized: Int32 = 0
    MPI_Finalized(&finalized)
    if finalized == 0 { MPI_Finalize() }
  }

  public func sendReceive(_ outgoing: UnsafeBufferPointer<Double>, to destination: Int,
                          into incoming: inout [Double], from source: Int) -> Int {
    var sendCount = Int64(outgoing.count)
    var receiveCount: Int64 = 0
    MPI_Sendrecv(&sendCount, 1, tessera_mpi_int64(), Int32(destination), 1,
                 &receiveCount, 1, tessera_mpi_int64(), Int32(source), 1, comm, tessera_status_ignore())
    traffic.messages += 1
    traffic.bytes += MemoryLayout<Int64>.size
    let n = Int(receiveCount)
    if incoming.count < n { incoming = [Double](repeating: 0, count: n + n / 2) }
    incoming.withUnsafeMutableBufferPointer { sendReceive(outgoing, to: destination, into: .init(rebasing: $0[0..<n]), from: source) }
    return n
  }

  public func sendReceive(_ outgoing: UnsafeBufferPointer<Double>, to destination: Int,
                          into incoming: UnsafeMutableBufferPointer<Double>, from source: Int) {
    MPI_Sendrecv(outgoing.baseAddress, Int32(outgoing.count), tessera_mpi_double(), Int32(destination), 2,
                 incoming.baseAddress, Int32(incoming.count), tessera_mpi_double(), Int32(source), 2, comm,
                 tessera_status_ignore())
    traffic.messages += 1
    traffic.bytes += outgoing.count * MemoryLayout<Double>.size
  }

  public func allReduce(_ values: UnsafeMutableBufferPointer<Double>, _ op: ReductionOp) {
    let mpiOp: MPI_Op
    switch op {
    case .sum: mpiOp = tessera_op_sum()
    case .max: mpiOp = tessera_op_max()
    case .min: mpiOp = tessera_op_min()
    }
    traffic.collectives += 1
    MPI_Allreduce(tessera_in_place(), values.baseAddress, Int32(values.count), tessera_mpi_double(), mpiOp, comm)
  }

  public func gather(_ values: [Double], root: Int) -> [Double] {
    traffic.collectives += 1
    var count = Int32(values.count)
    var counts = [Int32](repeating: 0, count: size)
    MPI_Gather(&count, 1, tessera_mpi_int32(), &counts, 1, tessera_mpi_int32(), Int32(root), comm)
    var displacements = [Int32](repeating: 0, count: size)
    var total: Int32 = 0
    for r in 0..<size { displacements[r] = total; total += counts[r] }
    var result = [Double](repeating: 0, count: rank == root ? Int(total) : 0)
    var send = values
    send.withUnsafeMutableBufferPointer { s in
      result.withUnsafeMutableBufferPointer { d in
        _ = MPI_Gatherv(s.baseAddress, count, tessera_mpi_double(), d.baseAddress, &counts, &displacements,
                        tessera_mpi_double(), Int32(root), comm)
      }
    }
    return result
  }

  public func allGatherBytes(_ bytes: [UInt8]) -> [[UInt8]] {
    traffic.collectives += 1
    var count = Int32(bytes.count)
    var counts = [Int32](repeating: 0, count: size)
    MPI_Allgather(&count, 1, tessera_mpi_int32(), &counts, 1, tessera_mpi_int32(), comm)
    var displacements = [Int32](repeating: 0, count: size)
    var total: Int32 = 0
    for r in 0..<size { displacements[r] = total; total += counts[r] }
    var all = [UInt8](repeating: 0, count: Int(total))
    var send = bytes
    send.withUnsafeMutableBufferPointer { s in
      all.withUnsafeMutableBufferPointer { d in
        _ = MPI_Allgatherv(s.baseAddress, count, tessera_mpi_byte(), d.baseAddress, &counts, &displacements,
                           tessera_mpi_byte(), comm)
      }
    }
    return (0..<size).map { r in Array(all[Int(displacements[r])..<Int(displacements[r] + counts[r])]) }
  }

  public func barrier() {
    traffic.collectives += 1
    MPI_Barrier(comm)
  }

  public func abort(exitCode: Int32) -> Never {
    MPI_Abort(comm, exitCode)
    exit(exitCode)
  }
}
