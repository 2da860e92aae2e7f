package io.ckpt4j.load;

import io.ckpt4j.CheckpointException;
import io.ckpt4j.OwnedResource;
import io.ckpt4j.ProgressListener;
import io.ckpt4j.tensor.TensorMaterializer;
import io.ckpt4j.value.StorageRef;
import io.ckpt4j.value.TensorRef;
import io.ckpt4j.value.DType;
import java.nio.file.Path;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
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
 * be read from any number of threads (as long as the caller does not modify the tree).
 * {@link #tensor}, {@link #wholeStorage} and {@link #close()} are not
 * thread-safe with each other: a lazily ({@code mmap}) loaded checkpoint builds tensors on demand
 * into unsynchronized state, so share one between threads only behind your own lock, or take what
 * each thread needs on one thread first. Distinct checkpoints are independent: loading and using
 * one per thread, concurrently, is safe (tests/soak).
 */
public final class LoadedCheckpoint extends OwnedResource {
  private final CheckpointTree tree;
  private final TensorMaterializer materializer;
  private final Map<StorageRef, TensorRef> wholeStorages = new IdentityHashMap<>();

  LoadedCheckpoint(CheckpointTree tree, TensorMaterializer materializer) {
    this.tree = tree;
    this.materializer = own(materializer);
    describeForLeakReport("the checkpoint " + tree.path());
    materializer.expect(tree.tensorRefs());
  }

  /** What the checkpoint holds, without its tensors (stays readable after close). */
  public CheckpointTree tree() {
    return tree;
  }

  public Path path() {
    return tree.path();
  }

  public Format format() {
    return tree.format();
  }

  /** The object tree, as torch.load returns it (tensors as {@link TensorRef} leaves). */
  public Object root() {
    return tree.root();
  }

  /**
   * What a format keeps beside its state_dict, by name, as {@link TensorRef}s (read their tensors
   * with {@link #tensor}, or {@code StateDict.fromTree(constants(), ckpt)}): a {@code .pt2}
   * program's {@code ep.constants} — non-persistent buffers and lifted tensor constants, which
   * {@code ep.state_dict} (the {@link #root()}) leaves out. Empty for every other format.
   */
  public Map<String, Object> constants() {
    return tree.constants();
  }

  /** The root storages, in the order the file names them. */
  public List<StorageRef> storages() {
    return tree.storages();
  }

  /** The read's warnings, one line each (see {@link CheckpointTree#warnings()}). */
  public List<String> warnings() {
    return tree.warnings();
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
      DType dtype = storage.dtype() == null ? DType.UINT8 : storage.dtype();
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

  /** Every tensor leaf of the tree, depth first, each once; then the {@link #constants()}. */
  public List<TensorRef> tensorRefs() {
    return tree.tensorRefs();
  }

  /** Reads every storage now and builds every tensor over them (eager load, torch.load's). */
  void preloadAll(ProgressListener progress) throws CheckpointException {
    ensureOpen();
    materializer.preloadAll(progress);
    materializer.tensors(tree.tensorRefs());
  }

  @Override
  protected void releaseResources() {
    materializer.close();
  }

  @Override
  protected String resourceName() {
    return "the checkpoint " + tree.path();
  }
}
