package io.ckpt4j.save;

import io.ckpt4j.CheckpointException;
import io.ckpt4j.layout.dcp.DcpLayout;
import io.ckpt4j.layout.dcp.DcpMetadata;
import io.ckpt4j.layout.dcp.DcpNesting;
import io.ckpt4j.layout.dcp.RowShards;
import io.ckpt4j.load.LoadedCheckpoint;
import io.ckpt4j.value.PyTuple;
import io.ckpt4j.value.TensorRef;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.bytedeco.pytorch.Tensor;

/**
 * What {@code dcp.save}'s planner decides before a byte is written: the state_dict flattened as
 * DCP flattens it (dotted keys, {@code planner_data} mapping them back), each tensor split in row
 * shards over {@code ranks} ranks ({@link RowShards}, as a {@code DTensor} with {@code Shard(0)}),
 * non-tensor values given to rank 0, and so which items each rank's {@code __<rank>_0.distcp}
 * holds, in order (its values first, then its chunks, as {@code FileSystemWriter} writes them).
 *
 * <p>Every rank of a process group that saves replicated state (DDP) computes the same plan from
 * its own copy; {@link #fingerprint()} lets the ranks check that before they write.
 *
 * <p>Thread safety: immutable after construction; the tensors it refers to belong to the caller.
 */
public final class DcpPlan {
  /** A value or a tensor chunk to write, and the metadata index it is written under. */
  record Item(DcpMetadata.Index index, Object value) {}

  /** A row band of a tensor, cut when it is written. */
  record Chunk(Tensor whole, DcpMetadata.Chunk box, int rank) {}

  private final int ranks;
  private final List<List<Item>> perRank;
  private final Map<String, DcpMetadata.Entry> entries;
  private final Map<String, List<Object>> paths;

  private DcpPlan(int ranks, List<List<Item>> perRank, Map<String, DcpMetadata.Entry> entries,
      Map<String, List<Object>> paths) {
    this.ranks = ranks;
    this.perRank = perRank;
    this.entries = entries;
    this.paths = paths;
  }

  /**
   * The plan for {@code stateDict} over {@code ranks} ranks. Tensor leaves are LibTorch tensors,
   * {@link Parameter}s or {@link TensorRef}s of {@code source} (may be null when there are none).
   */
  public static DcpPlan of(Map<?, ?> stateDict, LoadedCheckpoint source, int ranks)
      throws CheckpointException {
    if (ranks < 1) throw new IllegalArgumentException("ranks must be >= 1, got " + ranks);
    List<DcpNesting.Leaf> leaves = DcpNesting.flatten(stateDict, DcpPlan::isTensor,
        v -> v instanceof List<?> && !(v instanceof PyTuple));
    List<List<Item>> perRank = new ArrayList<>();
    for (int r = 0; r < ranks; r++) perRank.add(new ArrayList<>());
    Map<String, DcpMetadata.Entry> entries = new LinkedHashMap<>();
    Map<String, List<Object>> paths = new LinkedHashMap<>();
    List<Item> tensorItems = new ArrayList<>();
    for (DcpNesting.Leaf leaf : leaves) {
      String fqn = leaf.fqn();
      paths.put(fqn, leaf.path());
      if (!isTensor(leaf.value())) {
        entries.put(fqn, new DcpMetadata.BytesEntry());
        perRank.get(0).add(new Item(DcpMetadata.Index.ofBytes(fqn), leaf.value()));
        continue;
      }
      Tensor t = ShardedSaver.tensorOf(fqn, leaf.value(), source);
      long[] size = ShardedSaver.shape(t);
      List<DcpMetadata.Chunk> chunks = new ArrayList<>();
      for (RowShards.Shard shard : RowShards.split(size, ranks)) {
        chunks.add(shard.chunk());
        tensorItems.add(new Item(DcpMetadata.Index.ofChunk(fqn, shard.chunk().offsets()),
            new Chunk(t, shard.chunk(), shard.rank())));
      }
      entries.put(fqn, new DcpMetadata.TensorEntry(
          TensorLeaf.requireSaveable(t, "'" + fqn + "'").pythonName(), false, size, chunks));
    }
    for (Item item : tensorItems) perRank.get(((Chunk) item.value()).rank()).add(item);
    return new DcpPlan(ranks, perRank, entries, paths);
  }

  /** How many ranks the plan is for. */
  public int ranks() {
    return ranks;
  }

  /** The data file rank {@code rank} writes: {@code __<rank>_0.distcp}. */
  public String fileName(int rank) {
    return DcpLayout.dataFileName(rank, 0);
  }

  /** What rank {@code rank} writes, in its file's order. */
  public List<DcpMetadata.Index> indexes(int rank) {
    return perRank.get(rank).stream().map(Item::index).toList();
  }

  List<Item> items(int rank) {
    return Collections.unmodifiableList(perRank.get(rank));
  }

  /** The {@code .metadata} of the plan, once {@code storage} says where each item was written. */
  public DcpMetadata metadata(Map<DcpMetadata.Index, DcpMetadata.StorageInfo> storage) {
    return new DcpMetadata(entries, paths, storage, DcpLayout.VERSION);
  }

  /**
   * A digest of the plan (keys, paths, dtypes, sizes, chunks, who writes what): equal on two
   * ranks when their state_dicts have the same structure, so that they may save together.
   */
  public long fingerprint() {
    StringBuilder s = new StringBuilder().append(ranks);
    for (Map.Entry<String, DcpMetadata.Entry> e : entries.entrySet()) {
      s.append('\n').append(e.getKey()).append(' ').append(paths.get(e.getKey()));
      if (e.getValue() instanceof DcpMetadata.TensorEntry t) {
        s.append(' ').append(t.dtype()).append(Arrays.toString(t.size()));
      }
    }
    for (int r = 0; r < ranks; r++) {
      s.append("\nrank ").append(r);
      for (Item item : perRank.get(r)) s.append(' ').append(item.index());
    }
    try {
      byte[] digest = MessageDigest.getInstance("SHA-256")
          .digest(s.toString().getBytes(StandardCharsets.UTF_8));
      return java.nio.ByteBuffer.wrap(digest).getLong();
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("the JVM has no SHA-256", e);
    }
  }

  static boolean isTensor(Object v) {
    return v instanceof Tensor || v instanceof Parameter || v instanceof TensorRef;
  }
}
