import Communication
import Foundation

/// Several ranks of one run inside one test process, each a thread: the halo, migration and balancing
/// get unit tests without `mpirun`.
///
/// Point-to-point messages go through one mailbox per (source, destination) pair and are matched in
/// the order they were sent, as MPI matches messages of one tag on one communicator. A send only
/// deposits its payload, so a rank never waits for its partner to post a receive and no ordering of
/// paired `sendReceive` calls can deadlock; only a real mismatch (a rank receiving what nobody sends,
/// a rank skipping a collective) blocks, and `runRanks` turns that into an error after its timeout.
/// Collectives gather every rank's contribution and reduce it in rank order, so every rank gets the
/// same bits. Traffic is counted as `MPICommunicator` counts it.
public final class ThreadedCommunicator: Communicator, @unchecked Sendable {
  public let rank: Int
  public var size: Int { world.size }
  public private(set) var traffic = CommunicationTraffic()
  let world: ThreadedWorld
  /// Collective `split` calls made so far by this rank: every rank makes the same sequence of them, so
  /// the count names the split in the world's table of sub-worlds.
  private var splits = 0

  init(world: ThreadedWorld, rank: Int) {
    self.world = world
    self.rank = rank
  }

  public func sendReceive(_ outgoing: UnsafeBufferPointer<Double>, to destination: Int,
                          into incoming: inout [Double], from source: Int) -> Int {
    // MPICommunicator sends the count as one Int64 message first, then the doubles.
    traffic.messages += 1
    traffic.bytes += MemoryLayout<Int64>.size
    let received = exchange(Array(outgoing), to: destination, from: source, operation: "sendReceive (counted)")
    if incoming.count < received.count { incoming = [Double](repeating: 0, count: received.count) }
    for k in received.indices { incoming[k] = received[k] }
    return received.count
  }

  public func sendReceive(_ outgoing: UnsafeBufferPointer<Double>, to destination: Int,
                          into incoming: UnsafeMutableBufferPointer<Double>, from source: Int) {
    let received = exchange(Array(outgoing), to: destination, from: source, operation: "sendReceive")
    // MPI would truncate or leave a tail unwritten; a test must hear of either.
    if received.count != incoming.count {
      fail("received \(received.count) doubles from rank \(source), expected \(incoming.count)")
    }
    for k in received.indices { incoming[k] = received[k] }
  }

  private func exchange(_ outgoing: [Double], to destination: Int, from source: Int, operation: String) -> [Double] {
    if !world.ranks.contains(destination) || !world.ranks.contains(source) {
      fail("\(operation) to rank \(destination) from rank \(source) of a \(size)-rank communicator")
    }
    traffic.messages += 1
    traffic.bytes += outgoing.count * MemoryLayout<Double>.size
    world.post(outgoing, from: rank, to: destination)
    return world.take(from: source, to: rank, operation: operation)
  }

  public func allReduce(_ values: UnsafeMutableBufferPointer<Double>, _ op: ReductionOp) {
    traffic.collectives += 1
    let all = world.allGather(Array(values), rank: rank, operation: "allReduce")
    if let other = all.first(where: { $0.count != values.count }) {
      fail("allReduce of \(values.count) values where another rank reduces \(other.count)")
    }
    for k in 0..<values.count {
      var result = all[0][k]
      for r in 1..<all.count {
        switch op {
        case .sum: result += all[r][k]
        case .max: result = max(result, all[r][k])
        case .min: result = min(result, all[r][k])
        }
      }
      values[k] = result
    }
  }

  public func gather(_ values: [Double], root: Int) -> [Double] {
    traffic.collectives += 1
    let all = world.allGather(values, rank: rank, operation: "gather")
    return rank == root ? all.flatMap { $0 } : []
  }

  public func allGatherBytes(_ bytes: [UInt8]) -> [[UInt8]] {
    traffic.collectives += 1
    return world.allGather(bytes, rank: rank, operation: "allGatherBytes")
  }

  public func barrier() {
    traffic.collectives += 1
    _ = world.allGather(0, rank: rank, operation: "barrier")
  }

  public func split(color: Int) -> Communicator {
    let colors = world.allGather(color, rank: rank, operation: "split")
    let members = colors.indices.filter { colors[$0] == color }
    let subWorld = world.subWorld(split: splits, color: color, members: members)
    splits += 1
    return ThreadedCommunicator(world: subWorld, rank: members.firstIndex(of: rank)!)
  }

  /// A misuse MPI would answer with undefined behaviour: the run stops with this rank's message.
  private func fail(_ message: String) -> Never {
    world.run.stop("rank \(rank): \(message)")
    world.run.park()
  }

  public func abort(exitCode: Int32) -> Never {
    world.run.stop("rank \(rank) called abort(exitCode: \(exitCode))")
    world.run.park()
  }
}

/// The bookkeeping of one `runRanks`, shared by its world and every world split from it: the one lock,
/// why the run stopped, and which threads are done.
final class ThreadedRun: @unchecked Sendable {
  let condition = NSCondition()
  let threads: Int
  /// Why the run stopped (a rank threw, aborted or timed out), once it has.
  private(set) var failure: String?
  /// Threads blocked for good after a failure, and threads that returned: `runRanks` waits for all.
  private var parked = 0
  private var finished = 0
  /// What each thread (by its rank in `runRanks`) is waiting for, for the timeout's message.
  var waitingFor: [Int: String] = [:]

  init(threads: Int) { self.threads = threads }

  func stop(_ reason: String) {
    condition.lock()
    defer { condition.unlock() }
    if failure == nil { failure = reason }
    condition.broadcast()
  }

  func finish() {
    condition.lock()
    defer { condition.unlock() }
    finished += 1
    condition.broadcast()
  }

  /// Blocks the calling thread forever (its stack stays allocated until the test process ends).
  func park() -> Never {
    condition.lock()
    parkLocked()
  }

  func parkLocked() -> Never {
    parked += 1
    condition.broadcast()
    while true { condition.wait() }
  }

  /// Waits until every thread finished or parked, or `deadline`; returns the failure, if any.
  func awaitThreads(until deadline: Date) -> String? {
    condition.lock()
    defer { condition.unlock() }
    while finished + parked < threads {
      if !condition.wait(until: deadline) && finished + parked < threads {
        let stuck = waitingFor.sorted { $0.key < $1.key }.map { "rank \($0.key) in \($0.value)" }
        failure = failure ?? "timed out; waiting: \(stuck.isEmpty ? "none (busy)" : stuck.joined(separator: ", "))"
        condition.broadcast()
        return failure
      }
    }
    return failure
  }
}

/// The ranks of one communicator (the whole run, or one colour of a `split`): mailboxes and the
/// collective in progress, behind the run's lock.
final class ThreadedWorld: @unchecked Sendable {
  let size: Int
  let run: ThreadedRun
  /// Rank in this world → rank in `runRanks` (the thread), for messages naming ranks.
  let threads: [Int]
  var ranks: Range<Int> { 0..<size }

  private struct Route: Hashable { var source: Int, destination: Int }
  private var mailboxes: [Route: [[Double]]] = [:]
  /// Contributions to the collective in progress, and the last completed one's (read by the ranks it
  /// woke before any of them can complete the next: that needs every rank again).
  private var contributions: [Any?]
  private var arrived = 0
  private var completed: [Any?] = []
  private var generation = 0
  private var subWorlds: [[Int]: ThreadedWorld] = [:]

  init(run: ThreadedRun, threads: [Int]) {
    self.run = run
    self.threads = threads
    size = threads.count
    contributions = Array(repeating: nil, count: size)
  }

  func post(_ message: [Double], from source: Int, to destination: Int) {
    run.condition.lock()
    defer { run.condition.unlock() }
    mailboxes[Route(source: source, destination: destination), default: []].append(message)
    run.condition.broadcast()
  }

  func take(from source: Int, to destination: Int, operation: String) -> [Double] {
    run.condition.lock()
    defer { run.condition.unlock() }
    let route = Route(source: source, destination: destination)
    waitUntil(rank: destination, "\(operation) from rank \(source)") { !(mailboxes[route]?.isEmpty ?? true) }
    return mailboxes[route]!.removeFirst()
  }

  /// Every rank's `value`, in rank order, on every rank.
  func allGather<Value>(_ value: Value, rank: Int, operation: String) -> [Value] {
    run.condition.lock()
    defer { run.condition.unlock() }
    let myGeneration = generation
    contributions[rank] = value
    arrived += 1
    if arrived == size {
      completed = contributions
      contributions = Array(repeating: nil, count: size)
      arrived = 0
      generation += 1
      run.condition.broadcast()
    } else {
      waitUntil(rank: rank, operation) { generation != myGeneration }
    }
    return completed.map { $0 as! Value }
  }

  /// The world of the ranks `members` that passed `color` to split number `split` (made by the first
  /// of them to ask).
  func subWorld(split: Int, color: Int, members: [Int]) -> ThreadedWorld {
    run.condition.lock()
    defer { run.condition.unlock() }
    if let world = subWorlds[[split, color]] { return world }
    let world = ThreadedWorld(run: run, threads: members.map { threads[$0] })
    subWorlds[[split, color]] = world
    return world
  }

  /// Waits (lock held) until `ready`; once the run has failed, parks the thread for good instead.
  private func waitUntil(rank: Int, _ what: String, _ ready: () -> Bool) {
    let thread = threads[rank]
    run.waitingFor[thread] = size == run.threads ? what : "\(what) (rank \(rank) of a split)"
    while !ready() {
      if run.failure != nil { run.parkLocked() }
      run.condition.wait()
    }
    run.waitingFor[thread] = nil
  }
}

/// Why `runRanks` failed: a rank threw, aborted, or the ranks did not finish in time.
public struct SimulatedRanksError: Error, CustomStringConvertible {
  public let description: String
}

/// Runs `body` on `n` ranks, each a thread with its own `ThreadedCommunicator`, and returns what each
/// rank returned, in rank order. Throws if a rank throws or aborts (the others are stopped at their
/// next communication) or if the ranks have not all returned within `timeout` seconds (a deadlock or
/// a collective some rank skipped); stopped threads stay blocked, so a failing test never hangs.
@discardableResult
public func runRanks<Result: Sendable>(_ n: Int, timeout: Double = 30,
                                       _ body: @escaping @Sendable (Communicator) throws -> Result) throws -> [Result] {
  precondition(n >= 1, "runRanks needs at least one rank")
  let run = ThreadedRun(threads: n)
  let world = ThreadedWorld(run: run, threads: Array(0..<n))
  let results = ResultSlots<Result>(count: n)
  for rank in 0..<n {
    let communicator = ThreadedCommunicator(world: world, rank: rank)
    let thread = Thread {
      do {
        results.store(try body(communicator), at: rank)
        run.finish()
      } catch {
        run.stop("rank \(rank) threw: \(error)")
        run.park()
      }
    }
    // A rank under mpirun runs on a process's main thread (8 MiB of stack); a secondary thread gets
    // far less by default, which unoptimised builds' large frames can exhaust.
    thread.stackSize = 8 << 20
    thread.start()
  }
  if let failure = run.awaitThreads(until: Date(timeIntervalSinceNow: timeout)) {
    throw SimulatedRanksError(description: "\(n) simulated ranks: \(failure)")
  }
  return results.values()
}

/// One result per rank, written by the rank's thread and read after all have finished.
private final class ResultSlots<Value>: @unchecked Sendable {
  private var slots: [Value?]
  private let lock = NSLock()
  init(count: Int) { slots = Array(repeating: nil, count: count) }
  func store(_ value: Value, at rank: Int) { lock.withLock { slots[rank] = value } }
  func values() -> [Value] { lock.withLock { slots.map { $0! } } }
}
