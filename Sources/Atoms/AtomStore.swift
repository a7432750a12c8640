/// One rank's atoms: owned atoms in `0..<ownedCount`, ghost copies after them.
///
/// Structure of arrays: vector attributes are packed `[n][3]` doubles, the layout MPI buffers, the
/// Deep Potential and dumps consume directly. Storage grows by doubling, only between timesteps
/// (`reserve`); owned atoms are removed by swap-with-last, and ghosts are discarded and rebuilt on
/// every neighbour rebuild.
public final class AtomStore {
  public private(set) var capacity: Int = 0
  public private(set) var ownedCount: Int = 0
  public private(set) var ghostCount: Int = 0
  public var totalCount: Int { ownedCount + ghostCount }

  public private(set) var position: UnsafeMutablePointer<Double>
  public private(set) var velocity: UnsafeMutablePointer<Double>
  public private(set) var force: UnsafeMutablePointer<Double>
  /// LAMMPS atom type, 1-based.
  public private(set) var type: UnsafeMutablePointer<Int32>
  /// Global atom id (LAMMPS tag), 1-based.
  public private(set) var tag: UnsafeMutablePointer<Int64>
  /// Periodic images crossed, per dimension (owned atoms only).
  public private(set) var image: UnsafeMutablePointer<Int32>

  public init(capacity: Int = 64) {
    position = .allocate(capacity: 0)
    velocity = .allocate(capacity: 0)
    force = .allocate(capacity: 0)
    type = .allocate(capacity: 0)
    tag = .allocate(capacity: 0)
    image = .allocate(capacity: 0)
    reserve(capacity)
  }

  deinit {
    position.deallocate(); velocity.deallocate(); force.deallocate()
    type.deallocate(); tag.deallocate(); image.deallocate()
  }

  /// Makes room for `count` atoms in total (owned + ghost), keeping the current contents.
  public func reserve(_ count: Int) {
    guard count > capacity else { return }
    let newCapacity = max(count, capacity * 2, 16)
    func grow<T>(_ p: inout UnsafeMutablePointer<T>, _ width: Int, _ zero: T) {
      let q = UnsafeMutablePointer<T>.allocate(capacity: newCapacity * width)
      q.initialize(repeating: zero, count: newCapacity * width)
      q.update(from: p, count: totalCount * width)
      p.deallocate()
      p = q
    }
    grow(&position, 3, 0.0)
    grow(&velocity, 3, 0.0)
    grow(&force, 3, 0.0)
    grow(&type, 1, Int32(0))
    grow(&tag, 1, Int64(0))
    grow(&image, 3, Int32(0))
    capacity = newCapacity
  }

  /// Appends an owned atom. Only valid while there are no ghosts.
  public func appendOwned(tag: Int64, type: Int32, position x: SIMD3<Double>,
                          velocity v: SIMD3<Double> = .zero, image i: SIMD3<Int32> = .zero) {
    precondition(ghostCount == 0, "owned atoms can only be added while no ghosts exist")
    reserve(ownedCount + 1)
    let n = ownedCount
    setPosition(n, x)
    setVelocity(n, v)
    self.type[n] = type
    self.tag[n] = tag
    image[3 * n] = i.x; image[3 * n + 1] = i.y; image[3 * n + 2] = i.z
    ownedCount += 1
  }

  /// Removes owned atom `i` by moving the last owned atom into its slot. Only valid without ghosts.
  public func removeOwned(at i: Int) {
    precondition(ghostCount == 0, "owned atoms can only be removed while no ghosts exist")
    let last = ownedCount - 1
    if i != last { copyAtom(from: last, to: i) }
    ownedCount -= 1
  }

  /// Orders owned atoms by id: a canonical order that does not depend on the atoms' history, so a
  /// run continued from a restart sums forces in the same order as the uninterrupted run.
  public func sortOwnedByTag() {
    precondition(ghostCount == 0, "owned atoms can only be reordered while no ghosts exist")
    let order = (0..<ownedCount).sorted { tag[$0] < tag[$1] }
    func permute<T>(_ p: UnsafeMutablePointer<T>, _ width: Int) {
      let copy = Array(UnsafeBufferPointer(start: p, count: width * ownedCount))
      for (d, s) in order.enumerated() {
        for k in 0..<width { p[width * d + k] = copy[width * s + k] }
      }
    }
    permute(position, 3); permute(velocity, 3); permute(force, 3)
    permute(type, 1); permute(tag, 1); permute(image, 3)
  }

  /// Drops every ghost atom.
  public func clearGhosts() { ghostCount = 0 }

  /// Appends a ghost; its velocity and image are not meaningful.
  public func appendGhost(tag: Int64, type: Int32, position x: SIMD3<Double>) {
    reserve(totalCount + 1)
    let n = totalCount
    setPosition(n, x)
    self.type[n] = type
    self.tag[n] = tag
    ghostCount += 1
  }

  @inlinable public func positionOf(_ i: Int) -> SIMD3<Double> {
    SIMD3(position[3 * i], position[3 * i + 1], position[3 * i + 2])
  }
  @inlinable public func velocityOf(_ i: Int) -> SIMD3<Double> {
    SIMD3(velocity[3 * i], velocity[3 * i + 1], velocity[3 * i + 2])
  }
  @inlinable public func forceOf(_ i: Int) -> SIMD3<Double> {
    SIMD3(force[3 * i], force[3 * i + 1], force[3 * i + 2])
  }
  @inlinable public func imageOf(_ i: Int) -> SIMD3<Int32> {
    SIMD3(image[3 * i], image[3 * i + 1], image[3 * i + 2])
  }
  @inlinable public func setPosition(_ i: Int, _ x: SIMD3<Double>) {
    position[3 * i] = x.x; position[3 * i + 1] = x.y; position[3 * i + 2] = x.z
  }
  @inlinable public func setVelocity(_ i: Int, _ v: SIMD3<Double>) {
    velocity[3 * i] = v.x; velocity[3 * i + 1] = v.y; velocity[3 * i + 2] = v.z
  }
  @inlinable public func setImage(_ i: Int, _ m: SIMD3<Int32>) {
    image[3 * i] = m.x; image[3 * i + 1] = m.y; image[3 * i + 2] = m.z
  }

  /// Zeroes forces on owned and ghost atoms.
  public func clearForces() { force.update(repeating: 0, count: 3 * totalCount) }

  private func copyAtom(from s: Int, to d: Int) {
    for k in 0..<3 {
      position[3 * d + k] = position[3 * s + k]
      velocity[3 * d + k] = velocity[3 * s + k]
      force[3 * d + k] = force[3 * s + k]
      image[3 * d + k] = image[3 * s + k]
    }
    type[d] = type[s]
    tag[d] = tag[s]
  }
}
