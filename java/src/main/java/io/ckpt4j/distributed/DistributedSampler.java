package io.ckpt4j.distributed;

import io.ckpt4j.CheckpointException;
import io.ckpt4j.CheckpointException.Kind;
import org.bytedeco.javacpp.LongPointer;
import org.bytedeco.pytorch.Generator;
import org.bytedeco.pytorch.GeneratorOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * {@code torch.utils.data.DistributedSampler}: which dataset indices this rank reads in an epoch,
 * with Python's exact arithmetic, so a Java rank reads the samples its Python counterpart would.
 *
 * <ul>
 *   <li>{@code shuffle}: {@code torch.randperm(size)} from a CPU generator seeded
 *       {@code seed + epoch} (LibTorch's own randperm and Mersenne Twister, the ones Python
 *       calls), else {@code 0 .. size-1};
 *   <li>{@code drop_last=False}: the list is padded to a multiple of the world size by repeating
 *       its head (the whole list as often as needed when it is shorter than the padding);
 *       {@code drop_last=True}: the tail that does not divide evenly is dropped;
 *   <li>rank {@code r} takes every {@code num_replicas}-th index from {@code r}.
 * </ul>
 *
 * <pre>{@code
 * DistributedSampler sampler = DistributedSampler.of(dataset.size(), group);   // shuffle, seed 0
 * for (int epoch = 0; epoch < epochs; epoch++) {
 *   sampler.setEpoch(epoch);                        // as in Python: else every epoch is the same
 *   for (long i : sampler.indices()) { ... }
 * }
 * }</pre>
 *
 * <p>Thread safety: not thread-safe ({@link #setEpoch} mutates); {@link #indices()} allocates a
 * generator per call and shares nothing.
 */
public final class DistributedSampler {
  private final long size;
  private final int numReplicas;
  private final int rank;
  private final boolean shuffle;
  private final long seed;
  private final boolean dropLast;
  private final int numSamples;
  private long epoch;

  /**
   * {@code DistributedSampler(dataset, num_replicas, rank, shuffle, seed, drop_last)} for a
   * dataset of {@code size} samples.
   *
   * @throws CheckpointException ({@link Kind#INVALID_VALUE}) for a negative size, a rank outside
   *     {@code [0, numReplicas)} (Python's ValueError) or more samples per rank than a Java array
   *     holds
   */
  public DistributedSampler(long size, int numReplicas, int rank, boolean shuffle, long seed,
      boolean dropLast) throws CheckpointException {
    if (size < 0) {
      throw new CheckpointException(Kind.INVALID_VALUE, "dataset size " + size + " is negative");
    }
    if (numReplicas < 1) {
      throw new CheckpointException(Kind.INVALID_VALUE, "num_replicas " + numReplicas
          + " is not a world size: give 1 or more");
    }
    if (rank < 0 || rank >= numReplicas) {
      throw new CheckpointException(Kind.INVALID_VALUE, "Invalid rank " + rank
          + ", rank should be in the interval [0, " + (numReplicas - 1) + "]");
    }
    this.size = size;
    this.numReplicas = numReplicas;
    this.rank = rank;
    this.shuffle = shuffle;
    this.seed = seed;
    this.dropLast = dropLast;
    // Python: ceil((len - n) / n) when drop_last drops a remainder, which is floor(len / n).
    long samples = dropLast && size % numReplicas != 0 ? size / numReplicas
        : size / numReplicas + (size % numReplicas == 0 ? 0 : 1);
    if (samples > Integer.MAX_VALUE - 8) {
      throw new CheckpointException(Kind.INVALID_VALUE, "dataset size " + size + " over "
          + numReplicas + " replicas gives " + samples + " samples per rank, more than a Java"
          + " array holds");
    }
    this.numSamples = (int) samples;
  }

  /**
   * {@code DistributedSampler(dataset)} in {@code group}: its world size and rank, Python's
   * defaults ({@code shuffle=True, seed=0, drop_last=False}).
   */
  public static DistributedSampler of(long size, ProcessGroup group) throws CheckpointException {
    return new DistributedSampler(size, group.worldSize(), group.rank(), true, 0, false);
  }

  /** {@code set_epoch(epoch)}: the shuffle of the next {@link #indices()} uses seed + epoch. */
  public void setEpoch(long epoch) {
    this.epoch = epoch;
  }

  public long epoch() {
    return epoch;
  }

  /** {@code len(sampler)}: how many indices this rank gets per epoch. */
  public int numSamples() {
    return numSamples;
  }

  /** {@code total_size}: the indices of all ranks together, padding included. */
  public long totalSize() {
    return (long) numSamples * numReplicas;
  }

  /** {@code list(iter(sampler))}: this rank's indices for the current epoch. */
  public long[] indices() {
    long total = totalSize();
    long[] all = permutation();
    long[] mine = new long[numSamples];
    for (int i = 0; i < numSamples; i++) {
      long position = rank + (long) i * numReplicas;  // indices[rank:total_size:num_replicas]
      if (position >= total) throw new IllegalStateException("index arithmetic: " + position);
      // Padding repeats the list from its start (drop_last=False); drop_last cuts at total.
      mine[i] = all.length == 0 ? 0 : all[(int) (position % all.length)];
    }
    return mine;
  }

  /** {@code randperm(size, generator seeded seed + epoch)}, or {@code 0 .. size-1}. */
  private long[] permutation() {
    if (size > Integer.MAX_VALUE - 8) {
      throw new IllegalStateException("dataset of " + size + " samples: larger than a Java array");
    }
    long[] order = new long[(int) size];
    if (size == 0) return order;
    if (!shuffle) {
      for (int i = 0; i < order.length; i++) order[i] = i;
      return order;
    }
    try (Generator g = torch.make_generator_cpu();
        GeneratorOptional gen = new GeneratorOptional(g)) {
      g.set_current_seed(seed + epoch);
      try (Tensor perm = torch.randperm(size, gen);
          LongPointer data = perm.data_ptr_long()) {
        data.capacity(size).get(order);
      }
    }
    return order;
  }
}
