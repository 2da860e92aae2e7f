package io.ckpt4j.tensor;

import io.ckpt4j.CheckpointException;
import io.ckpt4j.CheckpointException.Kind;
import io.ckpt4j.OwnedResource;
import io.ckpt4j.ProgressListener;
import io.ckpt4j.nativeio.NativeLibrary;
import io.ckpt4j.nativeio.NativeStorage;
import io.ckpt4j.value.AssembledSource;
import io.ckpt4j.value.StorageRef;
import io.ckpt4j.value.TensorRef;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;

/**
 * Turns {@link TensorRef}s into LibTorch tensors: each root storage once (read, or mapped
 * copy-on-write), moved once to the device {@code map_location} names, and every tensor over it a
 * {@code set_} of that one storage with the saved offset, sizes and strides — so ties and views
 * stay shared, on the target device too.
 *
 * <p>Storages are read (or mapped) a block at a time — see {@link FileBlocks} — by native code
 * that splits large reads over {@code threads} threads. A storage assembled from chunks (a
 * torch.distributed.checkpoint tensor, {@link io.ckpt4j.value.AssembledSource}) is built by
 * {@link ChunkAssembly} when first needed, in both modes (read, never mapped).
 *
 * <p>The storages and tensors live in native vectors this object owns, and the {@link Tensor}s it
 * hands out are borrowed views of their elements (no Java-side allocation or deallocator per
 * tensor: that bookkeeping, not LibTorch, was most of an eager load's per-tensor cost). Tensors
 * are built in batches by one native call ({@link #tensors}). {@link #close()} releases them all;
 * a tensor a caller took its own reference to, {@code new Tensor(t)}, stays valid: LibTorch counts
 * references, and a block's memory lives while any tensor over it does. Closing twice is
 * harmless; asking for a tensor after close throws {@link IllegalStateException}. Not
 * thread-safe.
 */
public final class TensorMaterializer extends OwnedResource {
  /** How storage bytes reach memory. */
  public enum Mode {
    /** Positioned reads into fresh tensor memory (torch.load's default). */
    READ,
    /** Copy-on-write file mappings, read by the OS on first touch (torch.load(mmap=True)). */
    MMAP
  }

  private final List<StorageRef> roots;
  private final FileBlocks blocks;
  private final MapLocation mapLocation;
  private final Mode mode;
  private final int threads;
  /** Every root storage loaded so far, as a uint8 tensor on its target device. */
  private final TensorVector storageVector = owned(new TensorVector());
  /** Where each loaded root storage sits in {@link #storageVector}. */
  private final Map<StorageRef, Long> storageIndex = new IdentityHashMap<>();
  /** One vector per batch of tensors: never appended to, so borrowed elements stay put. */
  private final List<TensorVector> batches = new ArrayList<>();
  private final Map<TensorRef, Tensor> tensors = new IdentityHashMap<>();
  /** Tensors not built yet, by the block of their storage: built together on first use. */
  private final Map<FileBlocks.Block, List<TensorRef>> pending = new IdentityHashMap<>();

  /**
   * A materializer for the tensors over {@code roots}, the root storages of one checkpoint (their
   * file layout decides how they are read together).
   */
  public TensorMaterializer(List<StorageRef> roots, MapLocation mapLocation, Mode mode,
      int threads) {
    this.roots = List.copyOf(roots);
    this.blocks = new FileBlocks(this.roots);
    this.mapLocation = Objects.requireNonNull(mapLocation, "mapLocation");
    this.mode = Objects.requireNonNull(mode, "mode");
    this.threads = Math.max(1, threads);
    NativeStorage.ensureLoaded();
  }

  /**
   * The LibTorch tensor for {@code ref}; the same object each time it is asked for. It is a view
   * this materializer owns: valid until {@link #close()}.
   */
  public Tensor tensor(TensorRef ref) throws CheckpointException {
    Tensor t = tensors.get(ref);
    if (t != null) return t;
    // Build the whole block's tensors with this one: a block is read or mapped whole anyway,
    // and one native call for all its tensors costs little more than one for this tensor.
    List<TensorRef> group = pending.remove(blocks.blockOf(ref.storage().root()));
    if (group == null || !group.contains(ref)) {
      group = group == null ? new ArrayList<>() : new ArrayList<>(group);
      group.add(ref);
    }
    tensors(group);
    return tensors.get(ref);
  }

  /**
   * Tells which tensors are expected (a checkpoint's tensor leaves), so that the first tensor a
   * caller asks for builds the rest of its block in the same native call.
   */
  public void expect(List<TensorRef> refs) {
    for (TensorRef ref : refs) {
      FileBlocks.Block block = blocks.blockOf(ref.storage().root());
      if (block != null) pending.computeIfAbsent(block, b -> new ArrayList<>()).add(ref);
    }
  }

  /** Builds the tensors of every ref not built yet, in one native call. */
  public void tensors(List<TensorRef> refs) throws CheckpointException {
    ensureOpen();
    List<TensorRef> todo = new ArrayList<>(refs.size());
    int dimCount = 0;
    for (TensorRef ref : refs) {
      if (tensors.containsKey(ref)) continue;
      storage(ref.storage().root());
      todo.add(ref);
      dimCount = Math.addExact(dimCount, 2 * ref.shape().length);
    }
    if (todo.isEmpty()) return;
    int n = todo.size();
    long[] storage = new long[n];
    int[] scalarTypes = new int[n];
    long[] offsets = new long[n];
    int[] ndims = new int[n];
    long[] dims = new long[dimCount];
    byte[] flags = new byte[n];
    int d = 0;
    for (int i = 0; i < n; i++) {
      TensorRef ref = todo.get(i);
      storage[i] = storageIndex.get(ref.storage().root());
      scalarTypes[i] = ScalarTypes.of(ref.dtype()).value;
      offsets[i] = ref.rootStorageOffset();
      int rank = ref.shape().length;
      ndims[i] = rank;
      System.arraycopy(ref.shape(), 0, dims, d, rank);
      System.arraycopy(ref.stride(), 0, dims, d + rank, rank);
      d += 2 * rank;
      flags[i] = (byte) ((ref.isConj() ? NativeStorage.VIEW_CONJ : 0)
          | (ref.isNeg() ? NativeStorage.VIEW_NEG : 0)
          | (ref.requiresGrad() ? NativeStorage.VIEW_REQUIRES_GRAD : 0));
    }
    TensorVector batch = owned(new TensorVector());
    byte[] err = NativeLibrary.errorBuffer();
    if (!NativeStorage.make_views(storageVector, storage, scalarTypes, offsets, ndims, dims,
        flags, n, batch, err, err.length)) {
      batch.close();
      throw new CheckpointException(Kind.NATIVE,
          "cannot build the tensors: " + NativeLibrary.message(err));
    }
    batches.add(batch);
    for (int i = 0; i < n; i++) tensors.put(todo.get(i), batch.get(i));
  }

  /** The device a storage saved at {@code savedLocation} goes to, as text. */
  public String targetLocation(String savedLocation) {
    String target = mapLocation.map(savedLocation);
    return Devices.canonical(target == null ? savedLocation : target);
  }

  /** Reads (or maps) every root storage now: an eager load. */
  public void preloadAll() throws CheckpointException {
    preloadAll(ProgressListener.NONE);
  }

  /** {@link #preloadAll()}, telling {@code progress} the file bytes read after each block. */
  public void preloadAll(ProgressListener progress) throws CheckpointException {
    ensureOpen();
    long total = blocks.totalBytes();
    long done = 0;
    for (FileBlocks.Block block : blocks.blocks()) {
      if (!storageIndex.containsKey(block.storages().get(0))) loadBlock(block);
      done += block.length();
      progress.bytes(done, total);
    }
    List<StorageRef> assembled = new ArrayList<>();
    for (StorageRef root : roots) {
      if (root.source() instanceof AssembledSource && !storageIndex.containsKey(root)) {
        assembled.add(root);
      }
    }
    if (!assembled.isEmpty()) assemble(assembled);
    for (StorageRef root : roots) storage(root);
  }

  /** Loads {@code root} (and the rest of its block) if it is not loaded yet. */
  private void storage(StorageRef root) throws CheckpointException {
    if (storageIndex.containsKey(root)) return;
    FileBlocks.Block block = blocks.blockOf(root);
    if (block != null) {
      loadBlock(block);
      return;
    }
    if (root.source() instanceof AssembledSource) {
      assemble(List.of(root));
      return;
    }
    if (root.source() instanceof StorageRef.InMemory memory) {
      long index = storageVector.size();
      try (Tensor bytes = copyToTensor(memory.bytes(), root.nbytes())) {
        storageVector.push_back(bytes);
      }
      storageIndex.put(root, index);
      toTargetDevice(root, index);
      return;
    }
    throw new CheckpointException(Kind.INVALID_TENSOR,
        "storage " + root.key() + " has no bytes bound to it");
  }

  /** Reads or maps one block of storages, each then moved to its map_location device. */
  private void loadBlock(FileBlocks.Block block) throws CheckpointException {
    // Check every target device first, so a bad map_location reads nothing.
    for (StorageRef root : block.storages()) targetDevice(root);
    long first = storageVector.size();
    FileBlocks.load(block, mode == Mode.MMAP, threads, storageVector);
    for (int i = 0; i < block.storages().size(); i++) {
      StorageRef root = block.storages().get(i);
      storageIndex.put(root, first + i);
      toTargetDevice(root, first + i);
    }
  }

  /**
   * Assembles storages from their chunks ({@link ChunkAssembly}; read, never mapped), each then
   * moved to its map_location device.
   */
  private void assemble(List<StorageRef> assembled) throws CheckpointException {
    for (StorageRef root : assembled) targetDevice(root);
    List<Tensor> built = ChunkAssembly.assemble(assembled, threads);
    for (int i = 0; i < built.size(); i++) {
      long index = storageVector.size();
      try (Tensor bytes = built.get(i)) {
        storageVector.push_back(bytes);
      }
      storageIndex.put(assembled.get(i), index);
      toTargetDevice(assembled.get(i), index);
    }
  }

  /** The canonical device {@code root} goes to, checked to exist here. */
  private String targetDevice(StorageRef root) throws CheckpointException {
    return Devices.checkStorage(targetLocation(root.location()), root.location(), root.key());
  }

  /** Moves storage {@code index} to the storage's target device (nothing to do for the CPU). */
  private void toTargetDevice(StorageRef root, long index) throws CheckpointException {
    String target = targetDevice(root);
    if (target.equals(Devices.CPU)) return;
    Tensor host = storageVector.get(index);
    try (Device device = new Device(target); Tensor moved = host.to(device, host.scalar_type())) {
      storageVector.put(index, moved);
    }
  }

  private static Tensor copyToTensor(ByteBuffer bytes, long nbytes) throws CheckpointException {
    if (bytes.remaining() != nbytes) {
      throw new CheckpointException(Kind.INVALID_TENSOR,
          "storage bytes in memory are " + bytes.remaining()
          + " bytes, expected " + nbytes);
    }
    Tensor t;
    try (TensorOptions uint8 = new TensorOptions(torch.ScalarType.Byte)) {
      t = torch.empty(new long[] {nbytes}, uint8, null);
    }
    if (nbytes > 0) {
      try (BytePointer dst = new BytePointer(t.data_ptr()).capacity(nbytes)) {
        dst.asByteBuffer().put(bytes.duplicate());
      }
    }
    return t;
  }

  /**
   * {@code vector} with a reference of this object's own: a {@code PointerScope} the caller is in
   * releases only its reference when it closes, not the vector whose elements this object has
   * lent out; {@link #close()} releases ours.
   */
  private static TensorVector owned(TensorVector vector) {
    return vector.retainReference();
  }

  @Override
  protected String resourceName() {
    return "this TensorMaterializer";
  }

  @Override
  protected void releaseResources() {
    tensors.clear();
    pending.clear();
    for (TensorVector batch : batches) batch.close();
    batches.clear();
    storageVector.close();
    storageIndex.clear();
  }
}
