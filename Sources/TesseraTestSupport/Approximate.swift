import Foundation

/// Relative difference |a − b| / max(|a|, |b|, floor): how test comparisons judge agreement.
public func relativeDifference(_ a: Double, _ b: Double, floor: Double = 1e-300) -> Double {
  if a == b { return 0 }
  return abs(a - b) / max(abs(a), abs(b), floor)
}

/// Largest |a_i − b_i| over two equally long sequences.
public func maxAbsoluteDifference(_ a: [Double], _ b: [Double]) -> Double {
  precondition(a.count == b.count, "compared arrays differ in length: \(a.count) vs \(b.count)")
  return zip(a, b).reduce(0) { max($0, abs($1.0 - $1.1)) }
}

/// The repository root, found from this source file's location so tests run from any directory.
public let repositoryRoot: URL = {
  var url = URL(fileURLWithPath: #filePath)
  for _ in 0..<3 { url.deleteLastPathComponent() }
  return url
}()

/// A path below `inputs/`.
public func inputPath(_ relative: String) -> String {
  repositoryRoot.appendingPathComponent("inputs").appendingPathComponent(relative).path
}

/// A fresh empty directory for one test's files.
public func makeScratchDirectory(_ name: String) throws -> URL {
  let url = FileManager.default.temporaryDirectory.appendingPathComponent("tessera-tests")
    .appendingPathComponent("\(name)-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
  try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
  return url
}
