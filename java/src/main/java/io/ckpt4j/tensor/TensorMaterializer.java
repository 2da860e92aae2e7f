package io.ckpt4j.tensor;

import io.ckpt4j.CheckpointException;
import io.ckpt4j.CheckpointException.Kind;
import io.ckpt4j.nativeio.NativeStorage;
import io.ckpt4j.value.StorageRef;
import io.ckpt4j.value.TensorRef;
import java.nio.ByteBuffer;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.DeviceOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;

/**
 * Turns {@link TensorRef}s into LibTorch tensors: each root storage once (read, or mapped
 * copy-on-write), moved once to the device {@code map_location} names, and every tensor over it a
 * {@code set_} of that one storage with the saved offset, sizes and strides — so ties and views
 * stay shared, on the target device too.
 *
 * <p>Storages are read (or mapped) a block at a time — see {@link FileBlocks} — by native code
 * that splits large reads over {@code threads} threads.
 *
 * <p>Owns every native tensor it creates; {@link #close()} releases them (a tensor a caller still
 * holds its own reference to, e.g. {@code new Tensor(t)}, stays valid: LibTorch counts references,
 * and a block's memory lives while any tensor over it does). Closing twice is harmless. Not
 * thread-safe.
 */
public final class TensorMaterializer implements AutoCloseable {
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
  private final Map<StorageRef, Tensor> storages = new IdentityHashMap<>();
  private final Map<TensorRef, Tensor> tensors = new IdentityHashMap<>();
  private boolean closed;

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

  /** The LibTorch tensor for {@code ref}; the same object each time it is asked for. */
  public Tensor tensor(TensorRef ref) throws CheckpointException {
    ensureOpen();
    Tensor t = tensors.get(ref);
    if (t != null) return t;
    Tensor base = storage(ref.storage().root());
    TensorOptions options = new TensorOptions(ScalarTypes.of(ref.dtype()))
        .device(new DeviceOptional(base.device()));
    t = torch.empty(new long[] {0}, options, null);
    t.set_(base.storage(), ref.rootStorageOffset(), ref.shape(), ref.stride());
    if (ref.isConj()) t._set_conj(true);
    if (ref.isNeg()) t._set_neg(true);
    if (ref.requiresGrad()) t.requires_grad_(true);
    tensors.put(ref, t);
    return t;
  }

  /** The device a storage saved at {@code savedLocation} goes to, as text. */
  public String targetLocation(String savedLocation) {
    String target = mapLocation.map(savedLocation);
    return Devices.canonical(target == null ? savedLocation : target);
  }

  /** Reads (or maps) every root storage now: an eager load. */
  public void preloadAll() throws CheckpointException {
    ensureOpen();
    for (FileBlocks.Block block : blocks.blocks()) {
      if (!storages.containsKey(block.storages().get(0))) loadBlock(block);
    }
    for (StorageRef root : roots) storage(root);
  }

  private Tensor storage(StorageRef root) throws CheckpointException {
    Tensor t = storages.get(root);
    if (t != null) return t;
    FileBlocks.Block block = blocks.blockOf(root);
    if (block != null) {
      loadBlock(block);
      return storages.get(root);
    }
    if (root.source() instanceof StorageRef.InMemory memory) {
      t = onTargetDevice(root, copyToTensor(memory.bytes(), root.nbytes()));
      storages.put(root, t);
      return t;
    }
    throw new CheckpointException(Kind.INVALID_TENSOR,
        "storage " + root.key() + " has no bytes bound to it");
  }

  /** Reads or maps one block of storages, each then moved to its map_location device. */
  private void loadBlock(FileBlocks.Block block) throws CheckpointException {
    // Check every target device first, so a bad map_location reads nothing.
    for (StorageRef root : block.storages()) device(root);
    List<Tensor> host = FileBlocks.load(block, mode == Mode.MMAP, threads);
    for (int i = 0; i < host.size(); i++) {
      StorageRef root = block.storages().get(i);
      storages.put(root, onTargetDevice(root, host.get(i)));
    }
  }

  private Device device(StorageRef root) throws CheckpointException {
    return Devices.resolveStorage(targetLocation(root.location()), root.location(), root.key());
  }

  /** {@code host} on the storage's target device (itself when that is the CPU). */
  private Tensor onTargetDevice(StorageRef root, Tensor host) throws CheckpointException {
    Device device = device(root);
    if (device.is_cpu()) return host;
    try (host) {
      return host.to(device, host.scalar_type());
    }
  }

  private static Tensor copyToTensor(ByteBuffer bytes, long nbytes) throws CheckpointException {
    if (bytes.remaining() != nbytes) {
      throw new CheckpointException(Kind.INVALID_TENSOR,
          "storage bytes in memory are " + bytes.remaining()
          + " bytes, expected " + nbytes);
    }
    Tensor t = torch.empty(new long[] {nbytes}, new TensorOptions(torch.ScalarType.Byte), null);
    if (nbytes > 0) {
      BytePointer dst = new BytePointer(t.data_ptr()).capacity(nbytes);
      dst.asByteBuffer().put(bytes.duplicate());
    }
    return t;
  }

  private void ensureOpen() throws CheckpointException {
    if (closed) throw new CheckpointException(Kind.CLOSED, "the checkpoint is closed");
  }

  @Override
  public void close() {
    if (closed) return;
    closed = true;
    for (Tensor t : tensors.values()) t.close();
    for (Tensor t : storages.values()) t.close();
    tensors.clear();
    storages.clear();
  }
}
