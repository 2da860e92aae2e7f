package io.ckpt4j.load;

import io.ckpt4j.CheckpointException;
import io.ckpt4j.OwnedResource;
import io.ckpt4j.tensor.TensorMaterializer;
import io.ckpt4j.value.StorageRef;
import io.ckpt4j.value.TensorRef;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.bytedeco.pytorch.Tensor;

/**
 * A loaded checkpoint: the object tree Python's torch.load would return — dicts ({@code
 * LinkedHashMap}, {@link io.ckpt4j.value.PyOrderedDict}), lists, {@link
 * io.ckpt4j.value.PyTuple}s, scalars and {@link TensorRef} leaves — and the LibTorch tensors
 * behind those leaves.
 *
 * <p>Owns the native tensors it hands out: {@link #close()} releases them (take your own
 * reference with {@code new Tensor(t)} to keep one longer). Closing twice is harmless; asking for
 * a tensor after close throws {@link IllegalStateException} (see {@link OwnedResource}), while
 * the object tree, which holds no native memory, stays readable. A checkpoint never closed is
 * reported when it becomes unreachable (see {@link OwnedResource}: {@code
 * -Dckpt4j.leakDetection=true} adds where it was loaded).
 *
 * <p>Thread safety: the object tree, {@link #path()}, {@link #format()}, {@link #storages()},
 * {@link #warnings()} and {@link #tensorRefs()} are not changed by ckpt4j after the load and may
 * be read from any number of threads (as long as the caller does not modify the tree). {@link #tensor}, {@link #wholeStorage} and {@link #close()} are not
 * thread-safe with each other: a lazily ({@code mmap}) loaded checkpoint builds tensors on demand
 * into unsynchronized state, so share one between threads only behind your own lock, or take what
 * each thread needs on one thread first. Distinct checkpoints are independent: loading and using
 * one per thread, concurrently, is safe (tests/soak).
 */
public final class LoadedCheckpoint extends OwnedResource {
  private final Path path;
  private final Format format;
  private final Object root;
  private final List<StorageRef> storages;
  private final List<String> warnings;
  private final TensorMaterializer materializer;
  private final Map<StorageRef, TensorRef> wholeStorages = new IdentityHashMap<>();
  private final List<TensorRef> tensorRefs;

  LoadedCheckpoint(Path path, Loaded loaded, TensorMaterializer materializer) {
    this.path = path;
    this.format = loaded.format();
    this.root = loaded.root();
    this.storages = loaded.storages();
    this.warnings = loaded.warnings();
    this.materializer = own(materializer);
    describeForLeakReport("the checkpoint " + path);
    this.tensorRefs = List.copyOf(collectTensorRefs(root));
    materializer.expect(tensorRefs);
  }

  public Path path() {
    return path;
  }

  public Format format() {
    return format;
  }

  /** The object tree, as torch.load returns it (tensors as {@link TensorRef} leaves). */
  public Object root() {
    return root;
  }

  /** The root storages, in the order the file names them. */
  public List<StorageRef> storages() {
    return storages;
  }

  /**
   * What was read although something was off, one line each, as Python warns: keys a shard of a
   * sharded checkpoint holds that its index does not name. Empty for a clean file.
   */
  public List<String> warnings() {
    return warnings;
  }

  /** The LibTorch tensor behind {@code ref}, on its {@code map_location} device. */
  public Tensor tensor(TensorRef ref) throws CheckpointException {
    ensureOpen();
    return materializer.tensor(ref);
  }

  /** A 1-d tensor over all of {@code storage} (for bare storages a legacy pickle may hold). */
  public TensorRef wholeStorage(StorageRef storage) throws CheckpointException {
    TensorRef whole = wholeStorages.get(storage);
    if (whole == null) {
      io.ckpt4j.value.DType dtype =
          storage.dtype() == null ? io.ckpt4j.value.DType.UINT8 : storage.dtype();
      whole = TensorRef.create(storage, dtype, 0, new long[] {storage.nbytes() / dtype.itemSize()},
          new long[] {1}, false, "storage " + storage.key());
      wholeStorages.put(storage, whole);
    }
    return whole;
  }

  /** The device a storage saved at {@code savedLocation} loads on under this load's map_location. */
  public String targetLocation(String savedLocation) {
    return materializer.targetLocation(savedLocation);
  }

  /** Every tensor leaf of the tree, depth first, each once. */
  public List<TensorRef> tensorRefs() {
    return tensorRefs;
  }

  private static List<TensorRef> collectTensorRefs(Object root) {
    List<TensorRef> out = new ArrayList<>();
    collect(root, out, java.util.Collections.newSetFromMap(new IdentityHashMap<>()));
    return out;
  }

  private static void collect(Object value, List<TensorRef> out, Set<Object> seen) {
    if (value instanceof TensorRef t) {
      if (seen.add(t)) out.add(t);
    } else if (value instanceof Map<?, ?> m) {
      if (!seen.add(m)) return;
      for (Object v : m.values()) collect(v, out, seen);
    } else if (value instanceof List<?> l) {
      if (!seen.add(l)) return;
      for (Object v : l) collect(v, out, seen);
    } else if (value instanceof io.ckpt4j.value.PyObject o) {
      if (!seen.add(o)) return;
      collect(o.args(), out, seen);
      collect(o.state(), out, seen);
      collect(o.listItems(), out, seen);
      collect(o.dictItems(), out, seen);
    }
  }

  /** Reads every storage now and builds every tensor over them (eager load, torch.load's). */
  void preloadAll() throws CheckpointException {
    ensureOpen();
    materializer.preloadAll();
    materializer.tensors(tensorRefs);
  }

  @Override
  protected void releaseResources() {
    materializer.close();
  }

  @Override
  protected String resourceName() {
    return "the checkpoint " + path;
  }
}
