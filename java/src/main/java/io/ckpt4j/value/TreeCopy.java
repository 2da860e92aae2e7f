package io.ckpt4j.value;

import io.ckpt4j.CheckpointException;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A copy of an object tree with some leaves replaced: dicts keep their order and an
 * OrderedDict its attributes, tuples stay tuples, lists and sets are copied. A container or leaf
 * reached twice (one Python object under two keys) is copied once, so sharing survives; a
 * container that holds itself stays cyclic.
 *
 * <p>The {@link Leaves} function sees every value that is not a dict, list, tuple or set and
 * returns its replacement (or the value itself); values it keeps are shared, not copied — scalars,
 * strings and inert objects never change.
 */
public final class TreeCopy {
  /** Replaces one leaf. */
  @FunctionalInterface
  public interface Leaves {
    Object replace(Object leaf) throws CheckpointException;
  }

  private final Leaves leaves;
  private final Map<Object, Object> done = new IdentityHashMap<>();

  private TreeCopy(Leaves leaves) {
    this.leaves = leaves;
  }

  /** {@code tree} copied, each leaf passed through {@code leaves}. */
  public static Object copy(Object tree, Leaves leaves) throws CheckpointException {
    return new TreeCopy(leaves).visit(tree);
  }

  private Object visit(Object value) throws CheckpointException {
    if (value == null || value instanceof String || value instanceof Number
        || value instanceof Boolean) {
      return leaves.replace(value);
    }
    Object known = done.get(value);
    if (known != null) return known;
    Object out;
    if (value instanceof PyTuple tuple) {
      Object[] items = new Object[tuple.size()];
      for (int i = 0; i < items.length; i++) items[i] = visit(tuple.get(i));
      out = PyTuple.wrap(items);
    } else if (value instanceof PyOrderedDict od) {
      PyOrderedDict copy = new PyOrderedDict();
      done.put(value, copy);
      for (Map.Entry<Object, Object> e : od.entrySet()) copy.put(e.getKey(), visit(e.getValue()));
      for (Map.Entry<String, Object> a : od.attributes().entrySet()) {
        copy.setAttribute(a.getKey(), visit(a.getValue()));
      }
      out = copy;
    } else if (value instanceof Map<?, ?> m) {
      LinkedHashMap<Object, Object> copy = new LinkedHashMap<>();
      done.put(value, copy);
      for (Map.Entry<?, ?> e : m.entrySet()) copy.put(e.getKey(), visit(e.getValue()));
      out = copy;
    } else if (value instanceof List<?> l) {
      List<Object> copy = new ArrayList<>(l.size());
      done.put(value, copy);
      for (Object v : l) copy.add(visit(v));
      out = copy;
    } else if (value instanceof Set<?> s) {
      Set<Object> copy = new LinkedHashSet<>();
      done.put(value, copy);
      for (Object v : s) copy.add(visit(v));
      out = copy;
    } else {
      out = leaves.replace(value);
    }
    done.put(value, out);
    return out;
  }
}
