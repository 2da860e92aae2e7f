package io.ckpt4j.load;

import io.ckpt4j.CheckpointException;
import io.ckpt4j.CheckpointException.Kind;
import io.ckpt4j.value.PyTuple;
import io.ckpt4j.value.PythonTypes;
import io.ckpt4j.value.StorageRef;
import io.ckpt4j.value.TorchValues.StorageType;
import java.math.BigInteger;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The storages a checkpoint's pickle names through persistent ids, one {@link StorageRef} per
 * key however many tensors name it — torch's {@code loaded_storages} — so shared storages stay
 * shared.
 *
 * <p>A persistent id is {@code ('storage', storage_type, key, location, numel)} in the zip format
 * and {@code ('storage', storage_type, root_key, location, numel, view_metadata)} in the legacy
 * one, where {@code view_metadata} is None or {@code (view_key, offset, view_size)}. numel counts
 * elements of {@code storage_type}'s dtype, bytes for {@code UntypedStorage}.
 */
final class StorageTable {
  private static final String STORAGE_TAG = "storage";
  private static final int ZIP_PID_LENGTH = 5;
  private static final int LEGACY_PID_LENGTH = 6;

  /** Names the file in messages of storages that outlive the unpickling (bytes, views). */
  private final String where;
  private final Map<String, StorageRef> roots = new LinkedHashMap<>();
  private final Map<String, StorageRef> views = new LinkedHashMap<>();

  StorageTable(String where) {
    this.where = where;
  }

  /** The storage a persistent id names (creating it on first sight). */
  StorageRef resolve(Object pid) throws CheckpointException {
    if (!(pid instanceof PyTuple t) || t.size() != ZIP_PID_LENGTH && t.size() != LEGACY_PID_LENGTH
        || !STORAGE_TAG.equals(t.get(0))) {
      throw new CheckpointException(Kind.INVALID_TENSOR, "persistent id " + abbreviate(pid)
          + " is not ('storage', type, key, location, numel[, view])");
    }
    if (!(t.get(1) instanceof StorageType type)) {
      throw new CheckpointException(Kind.INVALID_TENSOR, "persistent id names storage type "
          + PythonTypes.name(t.get(1)) + ", not a torch storage class");
    }
    String key = text(t.get(2), "key");
    String location = text(t.get(3), "location");
    long numel = count(t.get(4), "numel");
    StorageRef root = roots.get(key);
    if (root == null) {
      root = StorageRef.of(key, type.dtype(), location, numel, where);
      roots.put(key, root);
    } else if (!sameStorage(root, type, location, numel)) {
      throw new CheckpointException(Kind.INVALID_TENSOR, "storage " + key + " is named as "
          + type.name() + " on " + location + " and earlier as " + root.dtype() + " on "
          + root.location() + ": one storage cannot have two types or devices");
    }
    if (t.size() == LEGACY_PID_LENGTH && t.get(5) != null) return view(root, t.get(5));
    return root;
  }

  /**
   * Whether a second persistent id names {@code root} consistently: the same location, and the
   * same element type — or an UntypedStorage of the same byte size, as torch 2.x writes for a
   * {@code _rebuild_tensor_v3} tensor (uint16, float8...) that views a typed storage's bytes.
   */
  private static boolean sameStorage(StorageRef root, StorageType type, String location,
      long numel) {
    if (!root.location().equals(location)) return false;
    if (root.dtype() == type.dtype()) return true;
    return type.dtype() == null && numel == root.nbytes();
  }

  private StorageRef view(StorageRef root, Object meta) throws CheckpointException {
    if (!(meta instanceof PyTuple v) || v.size() != 3) {
      throw new CheckpointException(Kind.INVALID_TENSOR,
          "storage view metadata is not (view_key, offset, size)");
    }
    String viewKey = text(v.get(0), "view key");
    StorageRef view = views.get(viewKey);
    if (view == null) {
      view = StorageRef.view(viewKey, root, count(v.get(1), "view offset"),
          count(v.get(2), "view size"), where);
      views.put(viewKey, view);
    }
    return view;
  }

  /** Root storages in the order the pickle first named them. */
  Map<String, StorageRef> roots() {
    return roots;
  }

  private String text(Object value, String field) throws CheckpointException {
    if (value instanceof String s) return s;
    if (value instanceof Long l) return Long.toString(l);
    throw new CheckpointException(Kind.INVALID_TENSOR,
        "storage " + field + " is " + PythonTypes.name(value)
        + ", expected str");
  }

  private long count(Object value, String field) throws CheckpointException {
    if (value instanceof Long l && l >= 0) return l;
    if (value instanceof Long || value instanceof BigInteger) {
      throw new CheckpointException(Kind.INVALID_TENSOR,
          "storage " + field + " is " + value + ", not a size in 0.."
          + Long.MAX_VALUE);
    }
    throw new CheckpointException(Kind.INVALID_TENSOR,
        "storage " + field + " is " + PythonTypes.name(value)
        + ", expected int");
  }

  private static String abbreviate(Object pid) {
    String s = String.valueOf(pid);
    return s.length() > 80 ? s.substring(0, 80) + "..." : s;
  }

}
