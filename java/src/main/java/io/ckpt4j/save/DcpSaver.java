package io.ckpt4j.save;

import io.ckpt4j.CheckpointException;
import io.ckpt4j.ProgressListener;
import io.ckpt4j.CheckpointException.Kind;
import io.ckpt4j.container.zip.ZipWriter;
import io.ckpt4j.fs.AtomicDirectory;
import io.ckpt4j.layout.dcp.DcpLayout;
import io.ckpt4j.layout.dcp.DcpMetadata;
import io.ckpt4j.load.LoadedCheckpoint;
import io.ckpt4j.value.TensorRef;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.channels.FileChannel;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.bytedeco.pytorch.MemoryFormatOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * {@code torch.distributed.checkpoint.save(state_dict, checkpoint_id=dir)} for the JVM: writes the
 * directory DCP's {@code FileSystemWriter} writes — {@code __<rank>_0.distcp} data files (each a
 * run of whole {@code torch.save} archives: a rank's non-tensor values first, then its tensor
 * chunks) and the pickled {@code .metadata} — which Python's {@code dcp.load(state_dict,
 * checkpoint_id=dir)} loads into a pre-allocated state_dict and {@code dcp_to_torch_save}
 * converts.
 *
 * <pre>{@code
 * DcpSaver.save(dir, stateDict, null, 1, SaveOptions.defaults());   // dcp.save, one process
 * DcpSaver.save(dir, stateDict, null, 4, SaveOptions.defaults());   // as 4 FSDP ranks would
 * }</pre>
 *
 * <p>The state_dict is flattened as DCP flattens it (dotted keys, {@code planner_data} mapping
 * them back). With {@code ranks > 1} the writer acts as that many ranks ({@link DcpPlan}): each
 * tensor is split in row shards ({@link io.ckpt4j.layout.dcp.RowShards}, as a {@code DTensor}
 * with {@code Shard(0)} is), each rank's chunks in its own file, as {@code dcp.save} names them in
 * a process group; non-tensor values are written once, by rank 0. {@link #writeRank} and
 * {@link #writeMetadata} are the two halves a rank of a process group runs
 * ({@code io.ckpt4j.distributed.DistributedDcp}).
 *
 * <p>Atomic: the files are written into a temporary sibling directory and renamed to {@code dir}
 * in one step ({@link AtomicDirectory}), so a killed writer leaves no directory that looks
 * complete. An existing {@code dir} is replaced only if it is empty or a DCP checkpoint (it has a
 * {@code .metadata}).
 */
public final class DcpSaver {
  private DcpSaver() {}

  /**
   * Writes {@code stateDict} to the DCP directory {@code dir} as {@code ranks} ranks. Tensor
   * leaves are LibTorch tensors, {@link Parameter}s or {@link TensorRef}s of {@code source}
   * (may be null when there are none); other leaves are saved as torch.save saves them.
   */
  public static DcpMetadata save(Path dir, Map<?, ?> stateDict, LoadedCheckpoint source, int ranks,
      SaveOptions options) throws CheckpointException {
    Objects.requireNonNull(dir, "dir");
    Objects.requireNonNull(options, "options");
    DcpPlan plan = DcpPlan.of(stateDict, source, ranks);
    DcpMetadata[] written = new DcpMetadata[1];
    AtomicDirectory.write(dir, options.fsync(), DcpSaver::isReplaceable, temp -> {
      Map<DcpMetadata.Index, DcpMetadata.StorageInfo> storage = new LinkedHashMap<>();
      for (int r = 0; r < ranks; r++) storage.putAll(writeRank(temp, plan, r, source, options));
      written[0] = writeMetadata(temp, plan, storage);
    });
    return written[0];
  }

  /**
   * Whether an existing directory may be replaced by a DCP save: it is a DCP checkpoint (it has
   * a {@code .metadata}); an empty one always may.
   */
  public static boolean isReplaceable(Path dir) {
    return DcpLayout.metadataIn(dir) != null;
  }

  /**
   * Writes rank {@code rank}'s data file of {@code plan} into directory {@code dir} (which must
   * not hold it yet) and returns where each of its items lies, in the plan's order: what
   * {@code dcp.save} does on one rank of a process group.
   */
  public static Map<DcpMetadata.Index, DcpMetadata.StorageInfo> writeRank(Path dir, DcpPlan plan,
      int rank, LoadedCheckpoint source, SaveOptions options) throws CheckpointException {
    Map<DcpMetadata.Index, DcpMetadata.StorageInfo> storage = new LinkedHashMap<>();
    writeRankFile(dir.resolve(plan.fileName(rank)), plan.fileName(rank), plan.items(rank), source,
        options, storage);
    return storage;
  }

  /** Writes {@code dir/.metadata} for {@code plan} with the items' {@code storage}. */
  public static DcpMetadata writeMetadata(Path dir, DcpPlan plan,
      Map<DcpMetadata.Index, DcpMetadata.StorageInfo> storage) throws CheckpointException {
    DcpMetadata metadata = plan.metadata(storage);
    writeBytes(dir.resolve(DcpLayout.METADATA_FILE), DcpMetadataPickle.toBytes(metadata));
    return metadata;
  }

  /** Writes one rank's file: each item a whole torch.save archive, one after the other. */
  private static void writeRankFile(Path file, String name, List<DcpPlan.Item> items,
      LoadedCheckpoint source, SaveOptions options,
      Map<DcpMetadata.Index, DcpMetadata.StorageInfo> storage)
      throws CheckpointException {
    try (FileChannel channel = FileChannel.open(file, StandardOpenOption.CREATE_NEW,
        StandardOpenOption.WRITE)) {
      for (DcpPlan.Item item : items) {
        long start = channel.position();
        String where = file + " ('" + item.index().fqn() + "')";
        Tensor cut = item.value() instanceof DcpPlan.Chunk c ? cut(c) : null;
        try {
          TorchSaver.Pickled pickled =
              TorchSaver.pickle(cut != null ? cut : item.value(), source, options, where);
          try (ZipWriter zip = ZipWriter.append(channel, file, ZipWriter.DEFAULT_ALIGNMENT)) {
            TorchArchive.write(zip, TorchArchive.DEFAULT_ROOT, pickled.pickle(),
                pickled.storages(), options.hostCopiesForTesting(), ProgressListener.NONE);
          }
        } finally {
          if (cut != null && cut != ((DcpPlan.Chunk) item.value()).whole()) cut.close();
        }
        storage.put(item.index(),
            new DcpMetadata.StorageInfo(name, start, channel.position() - start));
      }
    } catch (CheckpointException e) {
      throw e;
    } catch (IOException e) {
      throw new CheckpointException(CheckpointException.ioKind(e),
          "cannot write " + file + ": " + e.getMessage(), e);
    }
  }

  /**
   * The tensor a chunk saves: the whole tensor when it is one chunk over a storage of its own
   * size (saved as is, as DCP saves it), else a copy of its rows (DCP clones a view too, so that
   * the archive holds the chunk's bytes only).
   */
  private static Tensor cut(DcpPlan.Chunk c) {
    long[] size = ShardedSaver.shape(c.whole());
    long[] sizes = c.box().sizes();
    boolean whole = java.util.Arrays.equals(size, sizes);
    try (var storage = c.whole().storage()) {
      if (whole && storage.nbytes() == c.whole().nbytes()) return c.whole();
    }
    Tensor rows = size.length == 0 ? c.whole().detach()
        : c.whole().narrow(0, c.box().offsets()[0], sizes[0]);
    try (rows; MemoryFormatOptional contiguous =
        new MemoryFormatOptional(torch.MemoryFormat.Contiguous)) {
      return rows.clone(contiguous);
    }
  }

  private static void writeBytes(Path file, byte[] bytes) throws CheckpointException {
    try {
      Files.write(file, bytes, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
    } catch (IOException e) {
      throw new CheckpointException(CheckpointException.ioKind(e),
          "cannot write " + file + ": " + e.getMessage(), e);
    }
  }
}
