/// Working memory for one block of atoms, allocated once so that a timestep allocates nothing.
///
/// Only an atom's *active* slots (real neighbours whose pair the descriptor does not exclude) are
/// stored, in slot order: padding is a per-model constant (`PaddingEmbedding`) and an excluded
/// neighbour's row is zero, so neither has anything to differentiate.
final class BlockBuffers {
  let atomCapacity: Int
  let sectionCount: Int
  /// Active slots per atom.
  let activeCount: UnsafeMutablePointer<Int>
  /// Per atom, sectionCount + 1 bounds: section t's active slots are [bounds[t], bounds[t + 1]).
  let sectionBounds: UnsafeMutablePointer<Int>
  /// Per [atom][active]: the neighbour's index and its slot (which selects davg/dstd).
  let neighbor: UnsafeMutablePointer<Int32>
  let slot: UnsafeMutablePointer<Int32>
  /// Per [atom][active]: R̂ (4) and the displacement r_ij (3).
  let rows: UnsafeMutablePointer<Double>
  let displacement: UnsafeMutablePointer<Double>
  /// Per atom, 2·nnei rows of M1: section after section, the section's n active slots' G, then
  /// their dG/ds (as an embedding network writes them), so one product serves both in the
  /// backward pass. Empty when the embeddings come from tables fused with the contraction.
  let embedding: UnsafeMutablePointer<Double>
  /// Per atom: T (4 × M1), the descriptor D and ∂E/∂D (M1 × M2), the energy.
  let contraction: UnsafeMutablePointer<Double>
  let descriptor: UnsafeMutablePointer<Double>
  let descriptorGradient: UnsafeMutablePointer<Double>
  let atomEnergy: UnsafeMutablePointer<Double>

  init(atoms: Int, slots: Int, sections: Int, width: Int, axes: Int, storesEmbeddings: Bool) {
    atomCapacity = atoms
    sectionCount = sections
    func zeros<T: Numeric>(_ count: Int) -> UnsafeMutablePointer<T> {
      let p = UnsafeMutablePointer<T>.allocate(capacity: count)
      p.initialize(repeating: 0, count: count)
      return p
    }
    activeCount = zeros(atoms)
    sectionBounds = zeros(atoms * (sections + 1))
    neighbor = zeros(atoms * slots)
    slot = zeros(atoms * slots)
    rows = zeros(atoms * slots * 4)
    displacement = zeros(atoms * slots * 3)
    embedding = zeros(storesEmbeddings ? atoms * 2 * slots * width : 1)
    contraction = zeros(atoms * 4 * width)
    descriptor = zeros(atoms * width * axes)
    descriptorGradient = zeros(atoms * width * axes)
    atomEnergy = zeros(atoms)
  }

  deinit {
    activeCount.deallocate()
    sectionBounds.deallocate()
    neighbor.deallocate()
    slot.deallocate()
    for p in [rows, displacement, embedding, contraction, descriptor, descriptorGradient, atomEnergy] {
      p.deallocate()
    }
  }
}
