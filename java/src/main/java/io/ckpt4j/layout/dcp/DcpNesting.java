package io.ckpt4j.layout.dcp;

import io.ckpt4j.CheckpointException;
import io.ckpt4j.CheckpointException.Kind;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;

/**
 * DCP's flattening of a nested state_dict into dotted keys, and back — torch 2.13's
 * {@code flatten_state_dict} ({@code traverse_state_dict}: dict keys become {@code str(key)},
 * a list holding a tensor or a container is entered with int indexes, any other value is a leaf)
 * and {@code unflatten_state_dict} ({@code set_element}: str steps make dicts, int steps lists
 * padded with None), which the {@code planner_data} of the metadata drives.
 */
public final class DcpNesting {
  private DcpNesting() {}

  /** A leaf of a flattened state_dict: its path (str and int steps) and value. */
  public record Leaf(List<Object> path, Object value) {
    /** The dotted key DCP stores it under: {@code ".".join(map(str, path))}. */
    public String fqn() {
      StringBuilder key = new StringBuilder();
      for (Object step : path) {
        if (key.length() > 0) key.append('.');
        key.append(step);
      }
      return key.toString();
    }
  }

  /**
   * The leaves of {@code stateDict}, in order, as {@code traverse_state_dict} visits them.
   * {@code isTensor} tells tensors; {@code isList} tells Python lists (tuples are leaves).
   */
  public static List<Leaf> flatten(Map<?, ?> stateDict, Predicate<Object> isTensor,
      Predicate<Object> isList) throws CheckpointException {
    List<Leaf> leaves = new ArrayList<>();
    Map<String, Leaf> byKey = new LinkedHashMap<>();
    for (Map.Entry<?, ?> e : stateDict.entrySet()) {
      visit(List.of(str(e.getKey())), e.getValue(), isTensor, isList, leaves);
    }
    for (Leaf leaf : leaves) {
      if (byKey.putIfAbsent(leaf.fqn(), leaf) != null) {
        throw new CheckpointException(Kind.INVALID_VALUE, "two entries of the state_dict flatten"
            + " to the key '" + leaf.fqn() + "' (DCP joins paths with dots); rename one of them");
      }
    }
    return leaves;
  }

  private static void visit(List<Object> path, Object value, Predicate<Object> isTensor,
      Predicate<Object> isList, List<Leaf> out) throws CheckpointException {
    if (value instanceof Map<?, ?> m) {
      for (Map.Entry<?, ?> e : m.entrySet()) {
        visit(append(path, str(e.getKey())), e.getValue(), isTensor, isList, out);
      }
    } else if (isList.test(value) && !isTerminal(value, isTensor, isList)) {
      List<?> list = (List<?>) value;
      for (int i = 0; i < list.size(); i++) {
        visit(append(path, (long) i), list.get(i), isTensor, isList, out);
      }
    } else {
      out.add(new Leaf(path, value));
    }
  }

  /** {@code _is_terminal}: a list is entered only if it holds a tensor or a non-terminal container. */
  private static boolean isTerminal(Object value, Predicate<Object> isTensor,
      Predicate<Object> isList) {
    if (value instanceof Map<?, ?>) return false;
    if (!isList.test(value)) return true;
    for (Object entry : (List<?>) value) {
      if ((entry instanceof Map<?, ?> || isList.test(entry))
          && !isTerminal(entry, isTensor, isList)) {
        return false;
      }
      if (isTensor.test(entry)) return false;
    }
    return true;
  }

  private static List<Object> append(List<Object> path, Object step) {
    List<Object> longer = new ArrayList<>(path);
    longer.add(step);
    return List.copyOf(longer);
  }

  /** Python's {@code str(key)} for the keys a state_dict has. */
  private static String str(Object key) throws CheckpointException {
    if (key instanceof String s) return s;
    if (key instanceof Boolean b) return b ? "True" : "False";
    if (key instanceof Number n && !(key instanceof Double || key instanceof Float)) {
      return n.toString();
    }
    throw new CheckpointException(Kind.UNSUPPORTED_VALUE, "state_dict key " + key + " ("
        + key.getClass().getSimpleName() + ") is not a str or int, which DCP keys need");
  }

  /**
   * The nested state_dict of flat {@code values}: each key set at its path in {@code paths}
   * ({@code set_element}), or at the top level when it has none. Dicts are
   * {@link LinkedHashMap}s, lists {@link ArrayList}s.
   */
  public static Map<Object, Object> unflatten(Map<String, Object> values,
      Map<String, List<Object>> paths) throws CheckpointException {
    Map<Object, Object> root = new LinkedHashMap<>();
    for (Map.Entry<String, Object> e : values.entrySet()) {
      List<Object> path = paths.get(e.getKey());
      if (path == null) {
        root.put(e.getKey(), e.getValue());
      } else {
        set(root, path, e.getValue(), e.getKey());
      }
    }
    return root;
  }

  @SuppressWarnings("unchecked")
  private static void set(Map<Object, Object> root, List<Object> path, Object value, String fqn)
      throws CheckpointException {
    if (path.isEmpty() || !(path.get(0) instanceof String)) {
      throw badPath(fqn, path);
    }
    Object container = root;
    for (int i = 1; i < path.size(); i++) {
      Object previous = path.get(i - 1);
      Object fresh = path.get(i) instanceof String ? new LinkedHashMap<>() : new ArrayList<>();
      Object next;
      if (container instanceof Map<?, ?> map) {
        next = ((Map<Object, Object>) map).computeIfAbsent(previous, k -> fresh);
      } else {
        List<Object> list = (List<Object>) container;
        int index = index(previous, fqn, path);
        while (list.size() <= index) list.add(null);
        if (list.get(index) == null) list.set(index, fresh);
        next = list.get(index);
      }
      if (!(next instanceof Map<?, ?>) && !(next instanceof ArrayList<?>)) throw badPath(fqn, path);
      container = next;
    }
    Object last = path.get(path.size() - 1);
    if (container instanceof Map<?, ?> map) {
      if (!(last instanceof String)) throw badPath(fqn, path);
      ((Map<Object, Object>) map).put(last, value);
    } else {
      List<Object> list = (List<Object>) container;
      int index = index(last, fqn, path);
      while (list.size() <= index) list.add(null);
      list.set(index, value);
    }
  }

  /** The most list slots a path may ask for: a padded list past this is no state_dict's. */
  private static final long MAX_INDEX = 1L << 24;

  private static int index(Object step, String fqn, List<Object> path)
      throws CheckpointException {
    if (step instanceof Long l && l >= 0 && l < MAX_INDEX) return (int) (long) l;
    throw badPath(fqn, path);
  }

  private static CheckpointException badPath(String fqn, List<Object> path) {
    return new CheckpointException(Kind.MALFORMED_CONTAINER, "the DCP .metadata maps key '" + fqn
        + "' to the path " + path + ", which does not fit the other keys' paths (str keys,"
        + " list indexes under " + MAX_INDEX + "): corrupt metadata; save the checkpoint again");
  }
}
