import DeepPotential
import XCTest
