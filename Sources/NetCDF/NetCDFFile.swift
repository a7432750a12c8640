/// NetCDF's external types (the same numbers in NetCDF and PnetCDF).
public enum NetCDFType: Int32, Sendable {
  case char = 2, int = 4, float = 5, double = 6
}

/// Consecutive atom rows `start ..< start + length` of a per-atom variable.
public struct RowRun: Equatable, Sendable {
  public var start: Int
  public var length: Int
  public init(start: Int, length: Int) {
    self.start = start
    self.length = length
  }

  /// The runs covering `rows`, which must be sorted and distinct.
  public static func covering<Rows: Sequence<Int>>(_ rows: Rows) -> [RowRun] {
    var runs: [RowRun] = []
    for r in rows {
      if let last = runs.last, last.start + last.length == r {
        runs[runs.count - 1].length += 1
      } else {
        runs.append(RowRun(start: r, length: 1))
      }
    }
    return runs
  }
}

/// The NetCDF calls a trajectory is written with: the serial library on the one rank that writes, or
/// PnetCDF collectively on every rank (every rank then makes each call, with `count`s of zero or no
/// runs where it adds nothing). `variable: nil` means the file's global attributes.
protocol NetCDFFile: AnyObject {
  var path: String { get }
  func defineDimension(_ name: String, length: Int?) throws -> Int32
  func defineVariable(_ name: String, _ type: NetCDFType, _ dimensions: [Int32]) throws -> Int32
  func putAttribute(_ name: String, text: String, on variable: Int32?) throws
  func putAttribute(_ name: String, float: Float, on variable: Int32?) throws
  func endDefinitions() throws
  /// An existing file's dimension, with its current length (the frame count for `frame`).
  func dimension(_ name: String) throws -> (id: Int32, length: Int)
  func variable(_ name: String) throws -> Int32
  func put(text: String, _ variable: Int32, start: [Int], count: [Int]) throws
  func put(doubles: UnsafePointer<Double>, _ variable: Int32, start: [Int], count: [Int]) throws
  /// Rows of a `[frame][atom]` or `[frame][atom][width]` variable: `runs` of consecutive rows of `frame`,
  /// the values packed run after run.
  func putRows(doubles: UnsafePointer<Double>, _ variable: Int32, frame: Int, runs: [RowRun], width: Int) throws
  func putRows(integers: UnsafePointer<Int32>, _ variable: Int32, frame: Int, runs: [RowRun], width: Int) throws
  /// Makes what is written so far readable (header with the frame count, data) by other programs.
  func sync() throws
  func close()
}

public struct NetCDFError: Error, CustomStringConvertible {
  public let description: String
  public init(_ description: String) { self.description = description }
}

/// Creation-mode format flags (the same in NetCDF and PnetCDF).
enum NetCDFFormat {
  /// CDF-2, 64-bit offsets.
  static let cdf2: Int32 = 0x0200
}
