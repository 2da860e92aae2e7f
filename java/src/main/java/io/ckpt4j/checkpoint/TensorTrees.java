package io.ckpt4j.checkpoint;

import io.ckpt4j.CheckpointException;
import io.ckpt4j.load.LoadedCheckpoint;
import io.ckpt4j.pickle.PyObject;
import io.ckpt4j.pickle.PyOrderedDict;
import io.ckpt4j.pickle.PyTuple;
import io.ckpt4j.tensor.TensorRef;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.bytedeco.pytorch.Tensor;

/**
 * Object trees of a training checkpoint with LibTorch tensors at their leaves: a loaded tree
 * ({@link TensorRef} leaves) made into one that owns its tensors, and those tensors released.
 *
 * <p>Containers are copied (dicts keep their order and an OrderedDict its attributes, tuples stay
 * tuples); scalars, strings and inert objects are shared, since they never change. A tensor
 * reached twice (a Python object saved under two keys) becomes one Java tensor object, so the
 * sharing survives a save.
 */
public final class TensorTrees {
  private TensorTrees() {}

  /**
   * A copy of {@code tree} whose {@link TensorRef} leaves are LibTorch tensors: new references to
   * {@code ckpt}'s (they outlive its close), appended to {@code owned} for the caller to close.
   */
  public static Object materialize(Object tree, LoadedCheckpoint ckpt, List<Tensor> owned)
      throws CheckpointException {
    return new Materializer(ckpt, owned).copy(tree);
  }

  /** Every LibTorch tensor in {@code tree}, each object once, depth first. */
  public static List<Tensor> tensors(Object tree) {
    List<Tensor> out = new ArrayList<>();
    collect(tree, out, java.util.Collections.newSetFromMap(new IdentityHashMap<>()));
    return out;
  }

  private static void collect(Object value, List<Tensor> out, Set<Object> seen) {
    if (value instanceof Tensor t) {
      if (seen.add(t)) out.add(t);
    } else if (value instanceof Map<?, ?> m) {
      if (seen.add(m)) for (Object v : m.values()) collect(v, out, seen);
    } else if (value instanceof Iterable<?> l) {
      if (seen.add(l)) for (Object v : l) collect(v, out, seen);
    }
  }

  private static final class Materializer {
    private final LoadedCheckpoint ckpt;
    private final List<Tensor> owned;
    private final Map<Object, Object> done = new IdentityHashMap<>();

    Materializer(LoadedCheckpoint ckpt, List<Tensor> owned) {
      this.ckpt = ckpt;
      this.owned = owned;
    }

    Object copy(Object value) throws CheckpointException {
      if (value == null || value instanceof String || value instanceof Number
          || value instanceof Boolean || value instanceof PyObject) {
        return value;
      }
      Object known = done.get(value);
      if (known != null) return known;
      Object out;
      if (value instanceof TensorRef ref) {
        // retained: a PointerScope the caller may be in releases only its own reference
        Tensor t = new Tensor(ckpt.tensor(ref)).retainReference();
        owned.add(t);
        out = t;
      } else if (value instanceof PyTuple tuple) {
        Object[] items = new Object[tuple.size()];
        for (int i = 0; i < items.length; i++) items[i] = copy(tuple.get(i));
        out = PyTuple.of(items);
      } else if (value instanceof PyOrderedDict od) {
        PyOrderedDict copy = new PyOrderedDict();
        done.put(value, copy);
        for (Map.Entry<Object, Object> e : od.entrySet()) copy.put(e.getKey(), copy(e.getValue()));
        for (Map.Entry<String, Object> a : od.attributes().entrySet()) {
          copy.setAttribute(a.getKey(), copy(a.getValue()));
        }
        out = copy;
      } else if (value instanceof Map<?, ?> m) {
        LinkedHashMap<Object, Object> copy = new LinkedHashMap<>();
        done.put(value, copy);
        for (Map.Entry<?, ?> e : m.entrySet()) copy.put(e.getKey(), copy(e.getValue()));
        out = copy;
      } else if (value instanceof List<?> l) {
        List<Object> copy = new ArrayList<>(l.size());
        done.put(value, copy);
        for (Object v : l) copy.add(copy(v));
        out = copy;
      } else if (value instanceof Set<?> s) {
        Set<Object> copy = new LinkedHashSet<>();
        done.put(value, copy);
        for (Object v : s) copy.add(copy(v));
        out = copy;
      } else {
        out = value; // bytes, globals, complex numbers: immutable values
      }
      done.put(value, out);
      return out;
    }
  }
}
