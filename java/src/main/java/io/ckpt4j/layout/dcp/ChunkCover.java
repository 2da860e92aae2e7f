package io.ckpt4j.layout.dcp;

import io.ckpt4j.CheckpointException;
import io.ckpt4j.CheckpointException.Kind;
import java.util.Arrays;
import java.util.List;

/**
 * Checks that a DCP tensor's chunks tile it: each chunk inside the tensor, no two overlapping,
 * and their volumes adding up to the tensor's — so every element is written exactly once and
 * none is left uninitialized when the chunks are assembled.
 */
public final class ChunkCover {
  /** Chunks of one tensor checked pairwise at most (far more than ranks in any job). */
  public static final int MAX_CHUNKS = 4096;

  private ChunkCover() {}

  /** Throws a one-line error naming {@code fqn} unless {@code chunks} cover {@code size} once. */
  public static void check(String fqn, long[] size, List<DcpMetadata.Chunk> chunks)
      throws CheckpointException {
    if (chunks.size() > MAX_CHUNKS) {
      throw new CheckpointException(Kind.LIMIT_EXCEEDED, "tensor '" + fqn + "' has "
          + chunks.size() + " chunks, more than the " + MAX_CHUNKS + " ckpt4j checks");
    }
    try {
      long numel = 1;
      for (long d : size) {
        if (d < 0) throw malformed(fqn, "has the negative size " + Arrays.toString(size));
        numel = Math.multiplyExact(numel, d);
      }
      long covered = 0;
      for (DcpMetadata.Chunk c : chunks) covered = Math.addExact(covered, volume(fqn, size, c));
      for (int i = 0; i < chunks.size(); i++) {
        for (int j = i + 1; j < chunks.size(); j++) {
          if (overlap(chunks.get(i), chunks.get(j))) {
            throw malformed(fqn, "has chunks at " + Arrays.toString(chunks.get(i).offsets())
                + " and " + Arrays.toString(chunks.get(j).offsets()) + " that overlap");
          }
        }
      }
      if (covered != numel) {
        throw malformed(fqn, "has " + numel + " elements but its " + chunks.size()
            + " chunks cover " + covered + ": some elements would be left uninitialized");
      }
    } catch (ArithmeticException e) {
      throw malformed(fqn, "has sizes or chunks whose extent overflows 64 bits");
    }
  }

  private static long volume(String fqn, long[] size, DcpMetadata.Chunk c)
      throws CheckpointException {
    long[] offsets = c.offsets();
    long[] sizes = c.sizes();
    if (offsets.length != size.length || sizes.length != size.length) {
      throw malformed(fqn, "is " + size.length + "-d but has a chunk with offsets "
          + Arrays.toString(offsets) + " and sizes " + Arrays.toString(sizes));
    }
    long volume = 1;
    for (int d = 0; d < size.length; d++) {
      if (offsets[d] < 0 || sizes[d] < 0 || Math.addExact(offsets[d], sizes[d]) > size[d]) {
        throw malformed(fqn, "of size " + Arrays.toString(size) + " has a chunk at "
            + Arrays.toString(offsets) + " of sizes " + Arrays.toString(sizes)
            + " that lies outside it");
      }
      volume = Math.multiplyExact(volume, sizes[d]);
    }
    return volume;
  }

  private static boolean overlap(DcpMetadata.Chunk a, DcpMetadata.Chunk b) {
    long[] ao = a.offsets();
    long[] as = a.sizes();
    long[] bo = b.offsets();
    long[] bs = b.sizes();
    for (int d = 0; d < ao.length; d++) {
      if (as[d] == 0 || bs[d] == 0) return false;
      if (ao[d] + as[d] <= bo[d] || bo[d] + bs[d] <= ao[d]) return false;
    }
    return true;
  }

  private static CheckpointException malformed(String fqn, String detail) {
    return new CheckpointException(Kind.MALFORMED_CONTAINER, "tensor '" + fqn + "' of the DCP"
        + " .metadata " + detail + ": corrupt metadata; save the checkpoint again");
  }
}
