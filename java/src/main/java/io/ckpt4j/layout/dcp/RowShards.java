package io.ckpt4j.layout.dcp;

import java.util.ArrayList;
import java.util.List;

/**
 * FSDP-style row shards: a tensor split along dimension 0 over {@code ranks} ranks as
 * {@code DTensor} with {@code Shard(0)} splits it ({@code torch.chunk}: each rank
 * {@code ceil(rows / ranks)} rows, the last ones fewer or none). A 0-d tensor, or one with no
 * rows, is one chunk of rank 0 (DCP saves a replicated value once).
 */
public final class RowShards {
  private RowShards() {}

  /** A rank's chunk of a tensor. */
  public record Shard(int rank, DcpMetadata.Chunk chunk) {}

  /** The non-empty chunks of a tensor of {@code size} over {@code ranks} ranks, in rank order. */
  public static List<Shard> split(long[] size, int ranks) {
    if (ranks < 1) throw new IllegalArgumentException("ranks must be >= 1, got " + ranks);
    List<Shard> shards = new ArrayList<>();
    long[] zero = new long[size.length];
    if (size.length == 0 || size[0] == 0 || ranks == 1) {
      shards.add(new Shard(0, new DcpMetadata.Chunk(zero, size)));
      return shards;
    }
    long rows = size[0];
    long per = (rows + ranks - 1) / ranks;
    for (int r = 0; r < ranks; r++) {
      long start = Math.min(rows, r * per);
      long end = Math.min(rows, start + per);
      if (end <= start) continue;
      long[] offsets = zero.clone();
      offsets[0] = start;
      long[] sizes = size.clone();
      sizes[0] = end - start;
      shards.add(new Shard(r, new DcpMetadata.Chunk(offsets, sizes)));
    }
    return shards;
  }
}
