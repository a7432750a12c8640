import Atoms
import CHDF5
import Communication
import Geometry
import H5MD
import TesseraTestSupport
import XCTest

/// An H5MD file written with the serial communicator, read back with HDF5's C API: the layout H5MD 1.1
/// prescribes, rows ordered by atom id whatever the order of the atoms in the store, and every value.
final class H5MDWriterTests: XCTestCase {
  /// Atoms stored out of id order, with values that name their id.
  func atoms(frame: Int) -> AtomStore {
    let store = AtomStore()
    for tag in [4, 1, 5, 3, 2] as [Int64] {
      let t = Double(tag), f = Double(frame)
      store.appendOwned(tag: tag, type: Int32(1 + tag % 2), position: SIMD3(t, t + 0.25, t + 0.5) + f,
                        velocity: SIMD3(-t, 2 * t, f), image: SIMD3(Int32(tag), -Int32(tag), Int32(frame)))
    }
    return store
  }

  func read(_ file: hid_t, _ path: String) throws -> [Double] {
    let dataset = H5Dopen2(file, path, tessera_h5p_default())
    guard dataset >= 0 else { throw H5MDError("no dataset \(path)") }
    defer { H5Dclose(dataset) }
    let space = H5Dget_space(dataset)
    defer { H5Sclose(space) }
    let count = Int(H5Sget_simple_extent_npoints(space))
    var values = [Double](repeating: .nan, count: count)
    let status = values.withUnsafeMutableBytes {
      H5Dread(dataset, tessera_h5t_native_double(), tessera_h5s_all(), tessera_h5s_all(), tessera_h5p_default(), $0.baseAddress)
    }
    guard status >= 0 else { throw H5MDError("cannot read \(path)") }
    return values
  }

  func testWrittenFileReadsBack() throws {
    let path = try makeScratchDirectory("h5md").appendingPathComponent("dump.h5").path
    var layout = H5MDLayout(author: "Tessera tests")
    for element in H5MDLayout.Element.allCases { layout.every[element] = 1 }
    let box = Box(lo: .zero, hi: SIMD3(10, 11, 12), xy: 1, xz: -2, yz: 0.5)
    let writer = try H5MDWriter(path: path, layout: layout, comm: SerialCommunicator(), atoms: atoms(frame: 0), box: box,
                                creator: "tessera-tests", creatorVersion: "1")
    try writer.write(step: 0, time: 0, box: box, atoms: atoms(frame: 0), dumpEvery: 10)
    var grown = box
    grown.length.z = 13
    try writer.write(step: 10, time: 0.05, box: grown, atoms: atoms(frame: 1), dumpEvery: 10)
    writer.close()

    let file = H5Fopen(path, tessera_h5f_acc_rdonly(), tessera_h5p_default())
    XCTAssertGreaterThanOrEqual(file, 0)
    defer { H5Fclose(file) }
    for element in ["position", "velocity", "image", "species"] {
      XCTAssertEqual(try read(file, "/particles/all/\(element)/step"), [0, 10], element)
      XCTAssertEqual(try read(file, "/particles/all/\(element)/time"), [0, 0.05], element)
    }
    // Rows by id 1…5, frame after frame.
    let ids = (1...5).map(Double.init)
    XCTAssertEqual(try read(file, "/particles/all/position/value"),
                   [0.0, 1].flatMap { f in ids.flatMap { [$0 + f, $0 + 0.25 + f, $0 + 0.5 + f] } })
    XCTAssertEqual(try read(file, "/particles/all/velocity/value"), [0.0, 1].flatMap { f in ids.flatMap { [-$0, 2 * $0, f] } })
    XCTAssertEqual(try read(file, "/particles/all/image/value"), [0.0, 1].flatMap { f in ids.flatMap { [$0, -$0, f] } })
    XCTAssertEqual(try read(file, "/particles/all/species/value"), [0.0, 1].flatMap { _ in ids.map { 1 + $0.truncatingRemainder(dividingBy: 2) } })
    XCTAssertEqual(try read(file, "/particles/all/force/value").count, 2 * 5 * 3)
    // Triclinic edges: the rows a, b, c.
    XCTAssertEqual(try read(file, "/particles/all/box/edges/value"), [10, 0, 0, 1, 11, 0, -2, 0.5, 12, 10, 0, 0, 1, 11, 0, -2, 0.5, 13])
    XCTAssertEqual(try read(file, "/particles/all/box/edges/step"), [0, 10])
    XCTAssertGreaterThan(H5Aexists_by_name(file, "h5md", "version", tessera_h5p_default()), 0)
  }

  /// A changing atom count is refused with the file named.
  func testChangingAtomCountIsRefused() throws {
    let path = try makeScratchDirectory("h5md-count").appendingPathComponent("dump.h5").path
    var layout = H5MDLayout(author: "Tessera tests")
    layout.every[.position] = 1
    let box = Box(lo: .zero, hi: SIMD3(10, 10, 10))
    let writer = try H5MDWriter(path: path, layout: layout, comm: SerialCommunicator(), atoms: atoms(frame: 0), box: box,
                                creator: "tessera-tests", creatorVersion: "1")
    let fewer = atoms(frame: 0)
    fewer.removeOwned(at: 0)
    XCTAssertThrowsError(try writer.write(step: 0, time: 0, box: box, atoms: fewer, dumpEvery: 1)) { error in
      XCTAssertTrue("\(error)".contains("\(path): the number of atoms changed from 5 to 4"), "\(error)")
    }
    writer.close()
  }
}
