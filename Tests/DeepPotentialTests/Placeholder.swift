import XCTest
final class DeepPotentialPlaceholderTests: XCTestCase { func testNothing() {} }
