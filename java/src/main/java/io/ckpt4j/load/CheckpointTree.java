package io.ckpt4j.load;

import io.ckpt4j.value.PyObject;
import io.ckpt4j.value.StorageRef;
import io.ckpt4j.value.TensorRef;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What a checkpoint holds, read without its tensor bytes and without LibTorch — what Python's
 * {@code torch.load(f, map_location="meta")} shows: the object tree torch.load would return with
 * each tensor as a {@link TensorRef} (dtype, shape, strides, saved device), its root storages and
 * the warnings of the read. It owns no native memory and needs no closing; {@link
 * CheckpointLoader#describe} returns one, and every {@link LoadedCheckpoint} has one.
 *
 * <p>Immutable once built, so safe to share between threads (the tree's containers are the
 * reader's own; do not modify them).
 */
public final class CheckpointTree {
  private final Path path;
  private final Format format;
  private final Object root;
  private final List<StorageRef> storages;
  private final List<String> warnings;
  private final Map<String, Object> constants;
  private final List<TensorRef> tensorRefs;

  CheckpointTree(Path path, Loaded loaded) {
    this.path = path;
    this.format = loaded.format();
    this.root = loaded.root();
    this.storages = loaded.storages();
    this.warnings = loaded.warnings();
    this.constants = loaded.constants();
    Set<Object> seen = Collections.newSetFromMap(new IdentityHashMap<>());
    List<TensorRef> refs = new ArrayList<>();
    collect(root, refs, seen);
    collect(constants, refs, seen);
    this.tensorRefs = List.copyOf(refs);
  }

  /** The path the checkpoint was opened by (a file, a shard index or a directory). */
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

  /**
   * What a format keeps beside its state_dict, by name, as {@link TensorRef}s: a {@code .pt2}
   * program's {@code ep.constants} (see {@link LoadedCheckpoint#constants()}). Empty for every
   * other format.
   */
  public Map<String, Object> constants() {
    return constants;
  }

  /** Every tensor leaf of the tree, depth first, each once; then those of the constants. */
  public List<TensorRef> tensorRefs() {
    return tensorRefs;
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
    } else if (value instanceof PyObject o) {
      if (!seen.add(o)) return;
      collect(o.args(), out, seen);
      collect(o.state(), out, seen);
      collect(o.listItems(), out, seen);
      collect(o.dictItems(), out, seen);
    }
  }
}
