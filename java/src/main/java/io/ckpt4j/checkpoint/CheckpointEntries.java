package io.ckpt4j.checkpoint;

import io.ckpt4j.CheckpointException;
import io.ckpt4j.OwnedResource;
import io.ckpt4j.checkpoint.optim.OptimizerStateDict;
import io.ckpt4j.statedict.StateDict;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Objects;
import org.bytedeco.pytorch.Tensor;

/**
 * The top-level dict of a checkpoint file that {@link Checkpoint} and {@link LightningCheckpoint}
 * hold: the entries in order, the typed ones ({@link StateDict}, {@link OptimizerStateDict})
 * owned and closed when replaced or released, and the tensors of the other entries owned too.
 */
abstract class CheckpointEntries extends OwnedResource {
  /** Every entry, in order; the known ones hold their typed values. */
  final LinkedHashMap<String, Object> entries = new LinkedHashMap<>();
  /** Tensors of the other entries, owned here. */
  final List<Tensor> owned = new ArrayList<>();

  /** Any entry as it is (typed for the known keys, trees with LibTorch tensors otherwise). */
  public Object get(String key) {
    ensureOpen();
    return entries.get(key);
  }

  /** The entry names, in order (read-only). */
  public List<String> keys() {
    ensureOpen();
    return Collections.unmodifiableList(new ArrayList<>(entries.keySet()));
  }

  /** Puts {@code value} under {@code key}; the value it replaces is closed if typed. */
  final void replaceEntry(String key, Object value) {
    Objects.requireNonNull(key, "key");
    ensureOpen();
    Object old = entries.put(key, value);
    if (old != value) closeTyped(key, old);
  }

  /** Closes what this class owns in an entry's value (its typed values). */
  abstract void closeTyped(String key, Object value);

  static void closeTyped(Object value) {
    if (value instanceof StateDict sd) sd.close();
    if (value instanceof OptimizerStateDict o) o.close();
  }

  /**
   * {@code value} as {@code torch.save} is given it: a state dict or optimizer state dict (also
   * inside a list, as Lightning's {@code optimizer_states}) in Python's layout, then
   * {@link SaveValues#prepare}. Shares the tensors.
   */
  static Object pythonValue(Object value) throws CheckpointException {
    Object v = value;
    if (v instanceof StateDict sd) {
      v = sd.toPython();
    } else if (v instanceof OptimizerStateDict o) {
      v = o.toPython();
    } else if (v instanceof List<?> l && l.stream().anyMatch(CheckpointEntries::isTyped)) {
      List<Object> items = new ArrayList<>(l.size());
      for (Object item : l) items.add(pythonValue(item));
      return items;
    }
    return SaveValues.prepare(v);
  }

  private static boolean isTyped(Object value) {
    return value instanceof StateDict || value instanceof OptimizerStateDict;
  }

  @Override
  protected final void releaseResources() {
    entries.forEach(this::closeTyped);
    for (Tensor t : owned) t.close();
    owned.clear();
    entries.clear();
  }

  @Override
  public String toString() {
    return getClass().getSimpleName() + entries.keySet() + (isClosed() ? " (closed)" : "");
  }
}
