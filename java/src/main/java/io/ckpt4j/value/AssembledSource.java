package io.ckpt4j.value;

import io.ckpt4j.CheckpointException;
import io.ckpt4j.layout.dcp.DcpMetadata;
import java.util.List;

/**
 * The bytes of a storage that holds one whole tensor, contiguous, assembled from pieces stored
 * elsewhere — a torch.distributed.checkpoint tensor from its chunks, each chunk a sub-box of the
 * tensor written by one rank. Nothing is read until the storage is materialized: then each
 * piece's {@link PieceReader} names the tensor that holds its values (read from its own file),
 * and the piece is copied into its box.
 *
 * @param shape the whole tensor's sizes (the storage is {@code shape} elements, row-major)
 * @param pieces boxes that together cover the tensor exactly once (checked by the reader that
 *     builds this source)
 */
public record AssembledSource(long[] shape, List<Piece> pieces) implements StorageRef.Source {
  public AssembledSource {
    shape = shape.clone();
    pieces = List.copyOf(pieces);
  }

  @Override
  public long[] shape() {
    return shape.clone();
  }

  /** Finds the tensor that holds a piece's values, on first use. */
  @FunctionalInterface
  public interface PieceReader {
    /** A tensor of the piece's sizes and the whole tensor's dtype, its storage bound to bytes. */
    TensorRef read() throws CheckpointException;
  }

  /**
   * One box of the tensor — elements {@code offsets[d] .. offsets[d] + sizes[d]} along each
   * dimension {@code d}, as a DCP chunk describes it — whose values {@code reader} gives.
   */
  public record Piece(DcpMetadata.Chunk box, PieceReader reader) {}
}
