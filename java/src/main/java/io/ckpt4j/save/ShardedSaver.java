package io.ckpt4j.save;

import io.ckpt4j.CheckpointException;
import io.ckpt4j.CheckpointException.Kind;
import io.ckpt4j.container.safetensors.SafetensorsDtype;
import io.ckpt4j.container.safetensors.SafetensorsWriter;
import io.ckpt4j.fs.AtomicFile;
import io.ckpt4j.layout.hf.ShardFormat;
import io.ckpt4j.layout.hf.ShardIndex;
import io.ckpt4j.layout.hf.ShardPlan;
import io.ckpt4j.layout.hf.ShardSize;
import io.ckpt4j.load.LoadedCheckpoint;
import io.ckpt4j.tensor.TensorBytes;
import io.ckpt4j.value.DType;
import io.ckpt4j.value.PythonTypes;
import io.ckpt4j.value.TensorRef;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.LongArrayRef;
import org.bytedeco.pytorch.Storage;
import org.bytedeco.pytorch.Tensor;

/**
 * transformers' {@code model.save_pretrained(dir, max_shard_size="5GB", safe_serialization=...)}
 * for a state_dict: the tensors split into shards as huggingface_hub splits them
 * ({@link ShardPlan}), each shard written as transformers writes it — a safetensors file with
 * metadata {@code {"format": "pt"}}, or a {@code torch.save} of a dict — under transformers'
 * names ({@code model-00001-of-00003.safetensors}, {@code pytorch_model-00001-of-00002.bin}),
 * and the index ({@code model.safetensors.index.json}: {@code total_size} and {@code weight_map},
 * {@code json.dumps(indent=2, sort_keys=True)}). One shard is written unsharded
 * ({@code model.safetensors}) with no index, as transformers does.
 *
 * <pre>{@code
 * try (StateDict sd = StateDict.of(model.module())) {
 *   ShardedSaver.save(dir, sd.asMap(), ShardFormat.SAFETENSORS, "5GB");  // save_pretrained(dir)
 * }
 * }</pre>
 *
 * <p>Values are LibTorch tensors, {@link Parameter}s, or {@link TensorRef}s of a
 * {@link LoadedCheckpoint} passed as {@code source}. Safetensors shards refuse tensors that share
 * memory (tied weights), as {@code safetensors.torch.save_file} does — transformers drops all but
 * one name of each tied group first, which only the model's class knows how to do; torch shards
 * keep them shared (they always land in one shard). Each non-contiguous tensor is written
 * contiguous ({@code tensor.contiguous()}, as transformers does).
 *
 * <p>Each file is replaced atomically ({@link AtomicFile}). The old index goes first and the new
 * one is written last, so a save that is killed leaves no index naming a half-written set of
 * shards; then the shards of an earlier save that this one did not replace are deleted (as
 * transformers deletes them), and so is the other layout's file of this format (the unsharded
 * {@code model.safetensors} after a sharded save, the index after an unsharded one), so that the
 * directory names one checkpoint.
 *
 * <p>Thread safety: stateless; the state_dict being saved must not be used by another thread
 * during the save.
 */
public final class ShardedSaver {
  /** The safetensors metadata transformers writes into each shard. */
  private static final String FORMAT_KEY = "format";
  private static final String FORMAT_PT = "pt";

  private ShardedSaver() {}

  /** {@code save_pretrained(dir, max_shard_size=maxShardSize)} with default save options. */
  public static ShardPlan save(Path dir, Map<String, ?> stateDict, ShardFormat format,
      String maxShardSize) throws CheckpointException {
    return save(dir, stateDict, null, format, ShardSize.parse(maxShardSize), SaveOptions.defaults());
  }

  /**
   * Saves {@code stateDict} into {@code dir} (created if missing) in shards of at most
   * {@code maxShardBytes} (a tensor larger than that gets a shard of its own). {@code source} owns
   * the {@link TensorRef} values (null when there are none) and must stay open until this
   * returns. {@code options}: {@code fsync} for every file; {@code mapLocation} for torch shards.
   *
   * @return what was written: the files, their keys, {@code total_size}
   */
  public static ShardPlan save(Path dir, Map<String, ?> stateDict, LoadedCheckpoint source,
      ShardFormat format, long maxShardBytes, SaveOptions options) throws CheckpointException {
    Objects.requireNonNull(dir, "dir");
    Objects.requireNonNull(format, "format");
    Objects.requireNonNull(options, "options");
    ShardSize.bytes(maxShardBytes);
    Map<String, Tensor> tensors = new LinkedHashMap<>();
    for (Map.Entry<String, ?> e : stateDict.entrySet()) {
      tensors.put(e.getKey(), tensorOf(e.getKey(), e.getValue(), source));
    }
    List<ShardPlan.Item> items = new ArrayList<>();
    for (Map.Entry<String, Tensor> e : tensors.entrySet()) items.add(item(e.getKey(), e.getValue()));
    ShardPlan plan = ShardPlan.split(items, maxShardBytes, format);
    if (format == ShardFormat.SAFETENSORS) SharedMemory.refuse(tensors);
    prepare(dir);
    delete(dir.resolve(format.indexName()));
    for (ShardPlan.Shard shard : plan.shards()) {
      Path file = dir.resolve(shard.fileName());
      if (format == ShardFormat.SAFETENSORS) {
        writeSafetensors(file, shard.keys(), tensors, options.fsync());
      } else {
        writeTorch(file, shard.keys(), stateDict, tensors, source, options);
      }
    }
    Set<String> written = new HashSet<>();
    for (ShardPlan.Shard shard : plan.shards()) written.add(shard.fileName());
    if (plan.sharded()) {
      ShardIndex.write(dir.resolve(format.indexName()), plan.totalSize(), plan.weightMap(),
          options.fsync());
      delete(dir.resolve(format.weightsName()));
    }
    deleteStaleShards(dir, format, written);
    return plan;
  }

  /** The LibTorch tensor a state_dict value stands for (owned by the caller or {@code source}). */
  static Tensor tensorOf(String key, Object value, LoadedCheckpoint source)
      throws CheckpointException {
    Tensor t;
    if (value instanceof Tensor tensor) {
      t = tensor;
    } else if (value instanceof Parameter p) {
      t = p.data();
    } else if (value instanceof TensorRef ref) {
      if (source == null) {
        throw new CheckpointException(Kind.UNSUPPORTED_VALUE,
            "cannot save the tensor at '" + key + "': it is a tensor of"
            + " a loaded checkpoint, and no source checkpoint was given to read it from");
      }
      t = source.tensor(ref);
    } else {
      throw new CheckpointException(Kind.UNSUPPORTED_VALUE, "cannot save '" + key + "': it is a "
          + PythonTypes.name(value) + ", and a sharded checkpoint holds tensors only");
    }
    TensorLeaf.requireSaveable(t, "'" + key + "'");
    return t;
  }

  /** huggingface_hub's view of an entry: storage id {@code (device, data_ptr, nbytes)}, size. */
  private static ShardPlan.Item item(String key, Tensor t) {
    try (Storage storage = t.storage(); Device device = storage.device()) {
      long nbytes = storage.nbytes();
      long address = storage.data() == null ? 0 : storage.data().address();
      return new ShardPlan.Item(key,
          List.of(device.str().getString(), address, nbytes), nbytes);
    }
  }

  private static void writeSafetensors(Path file, List<String> keys, Map<String, Tensor> tensors,
      boolean fsync) throws CheckpointException {
    SafetensorsWriter writer = new SafetensorsWriter().putMetadata(FORMAT_KEY, FORMAT_PT);
    for (String key : keys) {
      Tensor t = tensors.get(key);
      DType dtype = TensorLeaf.requireSaveable(t, "'" + key + "'");
      SafetensorsDtype code = SafetensorsDtype.of(dtype.safetensorsCode()).orElseThrow(() ->
          new CheckpointException(Kind.UNSUPPORTED_VALUE,
              "cannot save '" + key + "' in a safetensors shard: its dtype "
              + dtype + " has no safetensors type; save torch shards (ShardFormat.TORCH)"));
      writer.add(key, code, shape(t), out -> {
        try {
          TensorBytes.forEachChunk(t, chunk -> {
            try {
              while (chunk.hasRemaining()) out.write(chunk);
            } catch (IOException e) {
              throw new UncheckedIOException(e);
            }
          });
        } catch (UncheckedIOException e) {
          throw e.getCause();
        }
      });
    }
    AtomicFile.write(file, fsync, writer::write);
  }

  private static void writeTorch(Path file, List<String> keys, Map<String, ?> stateDict,
      Map<String, Tensor> tensors, LoadedCheckpoint source, SaveOptions options)
      throws CheckpointException {
    Map<String, Object> shard = new LinkedHashMap<>();
    List<Tensor> copies = new ArrayList<>();
    try {
      for (String key : keys) {
        Object value = stateDict.get(key);
        Tensor t = tensors.get(key);
        if (!t.is_contiguous()) {
          Tensor c = t.contiguous();
          copies.add(c);
          if (value instanceof Parameter p) {
            value = new Parameter(c, p.requiresGrad());
          } else if (value instanceof TensorRef ref && ref.isParameter()) {
            value = new Parameter(c, ref.requiresGrad());
          } else {
            value = c;
          }
        }
        shard.put(key, value);
      }
      TorchSaver.save(file, shard, source, options);
    } finally {
      for (Tensor c : copies) c.close();
    }
  }

  static long[] shape(Tensor t) {
    try (LongArrayRef sizes = t.sizes()) {
      long[] out = new long[(int) sizes.size()];
      for (int i = 0; i < out.length; i++) out[i] = sizes.get(i);
      return out;
    }
  }

  private static void prepare(Path dir) throws CheckpointException {
    try {
      Files.createDirectories(dir);
    } catch (IOException e) {
      throw new CheckpointException(Kind.IO, "cannot save to directory " + dir + ": " + e, e);
    }
  }

  private static void delete(Path file) throws CheckpointException {
    try {
      if (Files.isRegularFile(file)) Files.delete(file);
    } catch (IOException e) {
      throw new CheckpointException(Kind.IO,
          "cannot save to " + file.getParent() + ": cannot remove the"
          + " earlier " + file.getFileName() + " (" + e + ")", e);
    }
  }

  /** Shards of an earlier save this one did not overwrite (transformers deletes them too). */
  private static void deleteStaleShards(Path dir, ShardFormat format, Set<String> written)
      throws CheckpointException {
    List<Path> stale = new ArrayList<>();
    try (DirectoryStream<Path> entries = Files.newDirectoryStream(dir)) {
      for (Path entry : entries) {
        String name = entry.getFileName().toString();
        if (format.isShardName(name) && !written.contains(name) && Files.isRegularFile(entry)) {
          stale.add(entry);
        }
      }
    } catch (IOException e) {
      throw new CheckpointException(Kind.IO,
          "cannot list " + dir + " to remove earlier shards: " + e, e);
    }
    for (Path p : stale) delete(p);
  }
}
