package io.ckpt4j.distributed;

import io.ckpt4j.CheckpointException;
import io.ckpt4j.CheckpointException.Kind;
import io.ckpt4j.fs.AtomicDirectory;
import io.ckpt4j.layout.dcp.DcpMetadata;
import io.ckpt4j.layout.dcp.DcpNesting;
import io.ckpt4j.load.CheckpointLoader;
import io.ckpt4j.load.LoadOptions;
import io.ckpt4j.load.LoadedCheckpoint;
import io.ckpt4j.save.DcpPlan;
import io.ckpt4j.save.DcpSaver;
import io.ckpt4j.save.SaveOptions;
import io.ckpt4j.value.PyTuple;
import io.ckpt4j.value.TensorRef;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;

/**
 * {@code torch.distributed.checkpoint.save} and {@code load} in a process group.
 *
 * <p>Save, as {@code dcp.save} does it with a group: every rank plans the same layout from its
 * own state_dict ({@link DcpPlan}: each tensor in row shards over the ranks, non-tensor values to
 * rank 0) and the ranks check they agree (an all_gather of the plan's fingerprint); rank 0 makes
 * the temporary directory and tells the others its name (broadcast); each rank writes its own
 * {@code __<rank>_0.distcp} from its own copy of the tensors; the ranks gather where each item
 * landed (all_gather); rank 0 writes {@code .metadata} and renames the directory into place
 * ({@link AtomicDirectory}: no complete-looking directory unless all ranks wrote), and tells the
 * others (broadcast). A rank that fails to write makes every rank fail with a line naming it.
 * The ranks must share the file system (one host, or a shared mount), as DCP's
 * {@code FileSystemWriter} needs.
 *
 * <p>Load, as {@code dcp.load(state_dict)} does it for plain (replicated) tensors: each rank
 * reads the chunks of every key of its pre-allocated state_dict from the directory, whatever
 * world size wrote it, and copies them in; then a barrier.
 *
 * <pre>{@code
 * DistributedDcp.save(group, dir, Map.of("model", StateDict.of(ddp.module().module()).asMap()));
 * DistributedDcp.load(group, dir, targets);   // {"model.fc.weight": tensor, ...}
 * }</pre>
 *
 * <p>Thread safety: stateless; the group serializes the collectives.
 */
public final class DistributedDcp {
  /** Flags in the messages between ranks. */
  private static final long OK = 1;
  private static final long FAILED = 0;
  /** The name length rank 0 broadcasts when it could not make the directory. */
  private static final long NO_DIRECTORY = -1;
  /** Each rank's gathered message: status, item count, then (offset, length) per item. */
  private static final int HEADER = 2;

  private DistributedDcp() {}

  /** {@link #save(ProcessGroup, Path, Map, LoadedCheckpoint, SaveOptions)} with the default options. */
  public static DcpMetadata save(ProcessGroup group, Path dir, Map<?, ?> stateDict)
      throws CheckpointException {
    return save(group, dir, stateDict, null, SaveOptions.defaults());
  }

  /**
   * {@code dcp.save(state_dict, checkpoint_id=dir)} on this rank: every rank of {@code group}
   * calls it with a state_dict of the same structure (keys, dtypes, shapes). Tensor leaves are
   * LibTorch tensors, {@link io.ckpt4j.save.Parameter}s or {@link TensorRef}s of {@code source}
   * (this rank's open checkpoint; null when there are none); other leaves are saved by rank 0 as
   * torch.save saves them.
   *
   * @return the metadata written (every rank gets it)
   * @throws CheckpointException {@link Kind#INVALID_VALUE} when the ranks' state_dicts differ in
   *     structure (nothing is written); {@link Kind#PEER_FAILED} on the other ranks when one rank
   *     failed to write (that rank throws its own error) or did not answer in time
   */
  public static DcpMetadata save(ProcessGroup group, Path dir, Map<?, ?> stateDict,
      LoadedCheckpoint source, SaveOptions options) throws CheckpointException {
    Objects.requireNonNull(group, "group");
    Objects.requireNonNull(dir, "dir");
    Objects.requireNonNull(options, "options");
    DcpPlan plan = DcpPlan.of(stateDict, source, group.worldSize());
    checkSamePlan(group, plan);
    if (group.rank() != RankZero.RANK) {
      Path temp = receiveDirectory(group, dir);
      Map<DcpMetadata.Index, DcpMetadata.StorageInfo> storage =
          writeAndGather(group, plan, temp, source, options);
      if (Signals.broadcast(group, FAILED, RankZero.RANK) != OK) {
        throw new CheckpointException(Kind.PEER_FAILED, group.who() + ": rank 0 could not write"
            + " the .metadata of " + dir + " or move it into place; rank 0's own error says why");
      }
      return plan.metadata(storage);
    }
    boolean[] announced = {false};
    boolean[] gathered = {false};
    DcpMetadata[] written = {null};
    CheckpointException failure = null;
    try {
      AtomicDirectory.write(dir, options.fsync(), DcpSaver::isReplaceable, temp -> {
        announceDirectory(group, temp.toAbsolutePath().toString());
        announced[0] = true;
        Map<DcpMetadata.Index, DcpMetadata.StorageInfo> storage =
            writeAndGather(group, plan, temp, source, options);
        gathered[0] = true;
        written[0] = DcpSaver.writeMetadata(temp, plan, storage);
      });
    } catch (CheckpointException e) {
      failure = e;
    } catch (RuntimeException e) {
      failure = new CheckpointException(Kind.NATIVE, group.who() + ": saving " + dir
          + " failed: " + CheckpointException.firstLine(e), e);
    }
    // The collectives the other ranks still wait for, whatever happened here (none when the
    // group itself failed: every rank sees that, and a second wait would only add a timeout).
    if (failure != null && failure.kind() == Kind.PEER_FAILED) throw failure;
    if (!announced[0]) {
      Signals.broadcast(group, NO_DIRECTORY, RankZero.RANK);
    } else if (gathered[0]) {
      Signals.broadcast(group, failure == null ? OK : FAILED, RankZero.RANK);
    }
    if (failure != null) throw failure;
    return written[0];
  }

  /** The ranks' plans are the same, or every rank throws the same refusal. */
  private static void checkSamePlan(ProcessGroup group, DcpPlan plan) throws CheckpointException {
    long[][] prints = Signals.allGather(group, new long[] {plan.fingerprint()});
    for (int r = 0; r < prints.length; r++) {
      if (prints[r][0] != prints[0][0]) {
        throw new CheckpointException(Kind.INVALID_VALUE, group.who() + ": rank " + r
            + "'s state_dict differs from rank 0's in keys, nesting, dtypes or shapes, so the"
            + " ranks cannot save one DCP checkpoint: give every rank the same structure (DDP"
            + " replicas have it)");
      }
    }
  }

  /** Rank 0: the temporary directory's name (length, then UTF-8 bytes). */
  private static void announceDirectory(ProcessGroup group, String temp)
      throws CheckpointException {
    byte[] bytes = temp.getBytes(StandardCharsets.UTF_8);
    Signals.broadcast(group, bytes.length, RankZero.RANK);
    long[] chars = new long[bytes.length];
    for (int i = 0; i < bytes.length; i++) chars[i] = bytes[i];
    Signals.broadcast(group, chars, RankZero.RANK);
  }

  /** The other ranks: the directory rank 0 made, or a refusal when it made none. */
  private static Path receiveDirectory(ProcessGroup group, Path dir) throws CheckpointException {
    long length = Signals.broadcast(group, 0L, RankZero.RANK);
    if (length == NO_DIRECTORY) {
      throw new CheckpointException(Kind.PEER_FAILED, group.who() + ": rank 0 could not start"
          + " the save to " + dir + "; rank 0's own error says why");
    }
    long[] chars = Signals.broadcast(group, new long[Math.toIntExact(length)], RankZero.RANK);
    byte[] bytes = new byte[chars.length];
    for (int i = 0; i < bytes.length; i++) bytes[i] = (byte) chars[i];
    return Path.of(new String(bytes, StandardCharsets.UTF_8));
  }

  /**
   * Writes this rank's file into {@code temp} and gathers where every rank's items lie; every
   * rank takes part even when its own write failed, then all throw.
   */
  private static Map<DcpMetadata.Index, DcpMetadata.StorageInfo> writeAndGather(
      ProcessGroup group, DcpPlan plan, Path temp, LoadedCheckpoint source, SaveOptions options)
      throws CheckpointException {
    int most = 0;
    for (int r = 0; r < plan.ranks(); r++) most = Math.max(most, plan.indexes(r).size());
    long[] mine = new long[HEADER + 2 * most];
    CheckpointException own = null;
    try {
      Map<DcpMetadata.Index, DcpMetadata.StorageInfo> written =
          DcpSaver.writeRank(temp, plan, group.rank(), source, options);
      mine[0] = OK;
      mine[1] = written.size();
      int i = HEADER;
      for (DcpMetadata.Index index : plan.indexes(group.rank())) {
        DcpMetadata.StorageInfo info = written.get(index);
        mine[i++] = info.offset();
        mine[i++] = info.length();
      }
    } catch (CheckpointException e) {
      own = e;
    } catch (RuntimeException e) {
      own = new CheckpointException(Kind.NATIVE, group.who() + ": writing "
          + plan.fileName(group.rank()) + " failed: " + CheckpointException.firstLine(e), e);
    }
    long[][] all = Signals.allGather(group, mine);
    if (own != null) throw own;
    Map<DcpMetadata.Index, DcpMetadata.StorageInfo> storage = new LinkedHashMap<>();
    for (int r = 0; r < all.length; r++) {
      List<DcpMetadata.Index> indexes = plan.indexes(r);
      if (all[r][0] != OK || all[r][1] != indexes.size()) {
        throw new CheckpointException(Kind.PEER_FAILED, group.who() + ": rank " + r
            + " could not write " + plan.fileName(r) + "; its own error says why (nothing was"
            + " saved)");
      }
      for (int i = 0; i < indexes.size(); i++) {
        storage.put(indexes.get(i), new DcpMetadata.StorageInfo(plan.fileName(r),
            all[r][HEADER + 2 * i], all[r][HEADER + 2 * i + 1]));
      }
    }
    return storage;
  }

  /**
   * {@code dcp.load(state_dict, checkpoint_id=dir)} on this rank: copies the saved value of each
   * key of {@code stateDict} (DCP's dotted keys: {@code "model.fc.weight"}) into its
   * pre-allocated tensor, whatever world size saved the directory; then waits for every rank.
   *
   * @throws CheckpointException {@link Kind#STATE_DICT_MISMATCH} for a key the checkpoint lacks
   *     or holds with another shape or dtype; {@link Kind#PEER_FAILED} when a rank does not
   *     reach the barrier in time
   */
  public static void load(ProcessGroup group, Path dir, Map<String, Tensor> stateDict)
      throws CheckpointException {
    Objects.requireNonNull(group, "group");
    Objects.requireNonNull(stateDict, "stateDict");
    try (LoadedCheckpoint ckpt = CheckpointLoader.load(dir, LoadOptions.defaults());
        NoGradGuard noGrad = new NoGradGuard()) {
      Map<String, Object> saved = new HashMap<>();
      for (DcpNesting.Leaf leaf : DcpNesting.flatten(asMap(ckpt, dir),
          v -> v instanceof TensorRef, v -> v instanceof List<?> && !(v instanceof PyTuple))) {
        saved.put(leaf.fqn(), leaf.value());
      }
      for (Map.Entry<String, Tensor> e : stateDict.entrySet()) {
        if (!(saved.get(e.getKey()) instanceof TensorRef ref)) {
          throw new CheckpointException(Kind.STATE_DICT_MISMATCH, "Missing key in checkpoint"
              + " state_dict: " + e.getKey() + " (" + dir + " has " + saved.size() + " keys):"
              + " load only keys it saved");
        }
        try (Tensor value = ckpt.tensor(ref)) {
          copyInto(e.getKey(), e.getValue(), value, dir);
        }
      }
    }
    group.barrier();
  }

  private static Map<?, ?> asMap(LoadedCheckpoint ckpt, Path dir) throws CheckpointException {
    if (ckpt.root() instanceof Map<?, ?> m) return m;
    throw new CheckpointException(Kind.WRONG_LOADER, dir + " holds no state_dict (its root is not"
        + " a dict): load it with CheckpointLoader.load");
  }

  private static void copyInto(String key, Tensor target, Tensor value, Path dir)
      throws CheckpointException {
    long[] want = target.sizes().vec().get();
    long[] got = value.sizes().vec().get();
    if (!Arrays.equals(want, got) || target.scalar_type().value != value.scalar_type().value) {
      throw new CheckpointException(Kind.STATE_DICT_MISMATCH, "'" + key + "' in " + dir + " is "
          + value.scalar_type() + Arrays.toString(got) + ", the state_dict's is "
          + target.scalar_type() + Arrays.toString(want) + ": allocate it as saved");
    }
    target.copy_(value);
  }
}
