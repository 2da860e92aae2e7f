package io.ckpt4j.save;

import io.ckpt4j.CheckpointException;
import io.ckpt4j.CheckpointException.Kind;
import io.ckpt4j.tensor.Devices;
import io.ckpt4j.tensor.MapLocation;
import io.ckpt4j.tensor.ScalarTypes;
import io.ckpt4j.value.DType;
import io.ckpt4j.value.PyGlobalRef;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.Storage;
import org.bytedeco.pytorch.Tensor;

/**
 * The storages a save writes, each once however many tensors view it — torch.save's {@code
 * id_map}: keys {@code "0"}, {@code "1"}, ... in the order the pickle first names them.
 *
 * <p>A storage is identified as torch identifies it, by its LibTorch {@code StorageImpl}: every
 * tensor over one storage (views, tied weights) names one key, with its own offset and strides.
 * A bare storage that is a slice of a larger one (a legacy storage view) is its own storage of
 * just those bytes, as in Python.
 *
 * <p>Each storage is typed (a {@code torch.FloatStorage} and the like, for the dtypes that have
 * one) or untyped ({@code torch.storage.UntypedStorage}, for uint16/32/64 and float8, as torch
 * 2.x writes them). Tensors that view one storage as two typed dtypes are refused, as torch.save
 * refuses them. A v3 tensor (no storage class) may view a typed storage — a uint16 view of a
 * uint8 tensor — and is written over the typed storage's id, its dtype carried by
 * {@code _rebuild_tensor_v3}; the reverse order (a typed tensor over a storage first saved
 * untyped) would make Python read the typed tensor as uint8, so it is refused. Untyped views of
 * one storage in several dtypes (uint16 and uint32) share it, as in torch.
 */
final class SavedStorages {
  private static final String TORCH = "torch";
  private static final String UNTYPED_MODULE = "torch.storage";
  private static final String UNTYPED_CLASS = "UntypedStorage";
  private static final String CPU = "cpu";

  /** One storage to write: bytes [byteOffset, byteOffset + nbytes) of {@code owner}'s storage. */
  static final class Entry {
    private final String key;
    private final Tensor owner;
    private final long byteOffset;
    private final long nbytes;
    private final String location;
    private final DType typedAs;
    private final String firstPath;

    private Entry(String key, Tensor owner, long byteOffset, long nbytes, String location,
        DType typedAs, String firstPath) {
      this.key = key;
      this.owner = owner;
      this.byteOffset = byteOffset;
      this.nbytes = nbytes;
      this.location = location;
      this.typedAs = typedAs;
      this.firstPath = firstPath;
    }

    /** The record name under {@code <root>/data/}. */
    String key() {
      return key;
    }

    /** A tensor over the storage; its storage is read when the bytes are written. */
    Tensor owner() {
      return owner;
    }

    long byteOffset() {
      return byteOffset;
    }

    long nbytes() {
      return nbytes;
    }

    /**
     * The location string for one persistent id ({@code cpu}, {@code cuda:1}): "cpu" is one
     * String object for all ids and a device location a new one each time, so the pickle
     * memoizes them as torch.save's does ({@code location_tag} returns a constant for the CPU
     * and builds {@code "cuda:" + index} on every call).
     */
    String location() {
      return location.equals(CPU) ? CPU : new String(location);
    }

    /** The persistent id's storage class: {@code torch.FloatStorage}, or UntypedStorage. */
    PyGlobalRef storageType() {
      return typedAs == null
          ? new PyGlobalRef(UNTYPED_MODULE, UNTYPED_CLASS)
          : new PyGlobalRef(TORCH, typedAs.storageClass());
    }

    /** The persistent id's numel: elements of the storage class's dtype, or bytes if untyped. */
    long numel() {
      return typedAs == null ? nbytes : nbytes / typedAs.itemSize();
    }
  }

  /** torch's {@code storage._cdata}, plus the byte range for slices. */
  private record Identity(long storageImpl, long byteOffset, long nbytes) {}

  private final MapLocation mapLocation;
  private final Map<Identity, Entry> byIdentity = new HashMap<>();
  private final List<Entry> entries = new ArrayList<>();

  SavedStorages(MapLocation mapLocation) {
    this.mapLocation = mapLocation;
  }

  /** The storage under a tensor leaf (registered on first sight). */
  Entry add(TensorLeaf leaf, String path) throws CheckpointException {
    try (Storage storage = leaf.tensor().storage()) {
      return add(leaf.tensor(), storage, 0, storage.nbytes(), typedAs(leaf.dtype()),
          leaf.savedLocation(), leaf.dtype().toString(), path);
    }
  }

  /**
   * A bare storage: the bytes {@code view} (a 1-d contiguous tensor) covers, typed as
   * {@code dtype} (null for untyped), recorded at {@code savedLocation}.
   */
  Entry addBare(Tensor view, DType dtype, String savedLocation, String path)
      throws CheckpointException {
    DType elementType = ScalarTypes.dtype(view.scalar_type().intern()).orElseThrow();
    long itemSize = elementType.itemSize();
    try (Storage storage = view.storage()) {
      return add(view, storage, Math.multiplyExact(view.storage_offset(), itemSize),
          Math.multiplyExact(view.numel(), itemSize), dtype == null ? null : typedAs(dtype),
          savedLocation, dtype == null ? "bytes" : dtype.toString(), path);
    }
  }

  private Entry add(Tensor owner, Storage storage, long byteOffset, long nbytes, DType typedAs,
      String savedLocation, String viewedAs, String path) throws CheckpointException {
    Identity id = new Identity(storage.unsafeGetStorageImpl().address(), byteOffset, nbytes);
    Entry entry = byIdentity.get(id);
    if (entry != null) {
      // A v3 tensor (uint16, float8...: no storage class) may view a typed storage's bytes: its
      // _rebuild_tensor_v3 carries its own dtype, so it takes the storage's persistent id as is.
      if (entry.typedAs != typedAs && typedAs != null) {
        boolean bothTyped = entry.typedAs != null && typedAs != null;
        throw new CheckpointException(Kind.UNSUPPORTED_VALUE,
            "cannot save the tensor at " + path + " as " + viewedAs
            + ": it views the storage of " + entry.firstPath + ", saved as "
            + describe(entry.typedAs) + (bothTyped
                ? ", and torch.save refuses one storage with two element types too"
                : ", and ckpt4j writes one storage class per storage")
            + "; save a copy of one of them (tensor.clone())");
      }
      return entry;
    }
    if (typedAs != null && nbytes % typedAs.itemSize() != 0) {
      throw new CheckpointException(Kind.UNSUPPORTED_VALUE,
          "cannot save the tensor at " + path + ": its storage holds "
          + nbytes + " bytes, not a whole number of " + typedAs + " elements, which torch.load"
          + " cannot read back; save a copy of it (tensor.clone())");
    }
    String location = location(savedLocation != null ? savedLocation : deviceLocation(storage));
    entry = new Entry(Integer.toString(entries.size()), owner, byteOffset, nbytes, location,
        typedAs, path);
    byIdentity.put(id, entry);
    entries.add(entry);
    return entry;
  }

  /** Storages in key order. */
  List<Entry> entries() {
    return Collections.unmodifiableList(entries);
  }

  /** The location recorded for a storage now at {@code current}, after the save's map_location. */
  private String location(String current) {
    String mapped = mapLocation.map(current);
    return Devices.canonical(mapped == null ? current : mapped);
  }

  /** torch's {@code location_tag}: {@code cpu}, or {@code <type>:<index>} ({@code cuda:1}). */
  private static String deviceLocation(Storage storage) {
    try (Device device = storage.device()) {
      return device.is_cpu() ? CPU : device.str().getString();
    }
  }

  /** The storage class a tensor of {@code dtype} is pickled with; null for UntypedStorage. */
  private static DType typedAs(DType dtype) {
    return dtype.storageClass() == null ? null : dtype;
  }

  private static String describe(DType typedAs) {
    return typedAs == null ? "an UntypedStorage" : "a " + typedAs.storageClass();
  }
}
