@testable import DeepPotential
import Foundation
import XCTest

/// The vector activations of the message-passing layers against the scalar functions (those the
/// DeePMD-kit references check): values and slopes within a few ulp, over a range that crosses
/// silut's threshold inside a 4-lane group and ends with a tail shorter than four.
final class VectorActivationTests: XCTestCase {
  func testVectorActivationsMatchTheScalarOnes() {
    let z = stride(from: -40.0, through: 25.0, by: 0.0731).map { $0 } + [0, -0.0, 1e-300, 3.0, 10.0]
    for name in ["tanh", "silu", "silut:10.0", "silut:3.0", "gelu", "softplus"] {
      let activation = Activation(name: name)!
      var values = z, slopes = [Double](repeating: 0, count: z.count), inPlace = z
      z.withUnsafeBufferPointer { zp in
        activation.apply(zp.baseAddress!, values: &values, slopes: &slopes, count: z.count)
      }
      activation.apply(&inPlace, count: z.count)
      for (r, x) in z.enumerated() {
        let (value, slope) = activation.valueAndDerivative(x)
        // Relative to the value, or absolute near zero (SiLU's tail: ulps of ½ through the tanh form).
        XCTAssertEqual(values[r], value, accuracy: 1e-14 * max(abs(value), 1), "\(name) φ(\(x))")
        XCTAssertEqual(inPlace[r], value, accuracy: 1e-14 * max(abs(value), 1), "\(name) φ(\(x)) in place")
        XCTAssertEqual(slopes[r], slope, accuracy: 1e-14 * max(abs(slope), 1), "\(name) φ'(\(x))")
      }
    }
  }
}
