/// Precision of the networks' arithmetic (`pair_style deepmd … precision float32`), as DeePMD-kit's
/// mixed precision: with float32 the embedding networks, the compressed tables and their
/// contraction, and the fitting networks run in Float; positions, the environment matrix, the
/// descriptor's products and the sums of energy, forces and virial stay in Double.
public enum NetworkPrecision: String, Sendable {
  case float64, float32
}

/// The model's networks rounded to Float, with their Float buffers (`precision float32`).
final class SinglePrecisionNetworks {
  let embeddings: [DenseNetworkOf<Float>?]
  let fittings: [DenseNetworkOf<Float>]
  let embeddingWorkspace = EmbeddingWorkspace<Float>()
  let fittingWorkspace = FittingWorkspace<Float>()
  /// A batch's inputs, gradients (or embedding rows) and outputs in Float.
  let input = ScratchBuffer<Float>(), gradient = ScratchBuffer<Float>(), output = ScratchBuffer<Float>()

  init(_ model: DeepPotentialModel) {
    embeddings = model.embeddings.map { $0.map(DenseNetworkOf<Float>.init) }
    fittings = model.fittings.map(DenseNetworkOf<Float>.init)
  }
}
