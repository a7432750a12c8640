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
    activeCount = zeroedBuffer(atoms)
    sectionBounds = zeroedBuffer(atoms * (sections + 1))
    neighbor = zeroedBuffer(atoms * slots)
    slot = zeroedBuffer(atoms * slots)
    rows = zeroedBuffer(atoms * slots * 4)
    displacement = zeroedBuffer(atoms * slots * 3)
    embedding = zeroedBuffer(storesEmbeddings ? atoms * 2 * slots * width : 1)
    contraction = zeroedBuffer(atoms * 4 * width)
    descriptor = zeroedBuffer(atoms * width * axes)
    descriptorGradient = zeroedBuffer(atoms * width * axes)
    atomEnergy = zeroedBuffer(atoms)
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
