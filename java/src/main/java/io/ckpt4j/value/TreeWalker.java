package io.ckpt4j.value;

import io.ckpt4j.CheckpointException;
import io.ckpt4j.CheckpointException.Kind;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Walks a loaded object tree depth first — dicts in insertion order, lists and tuples by index —
 * and reports each leaf with its path of keys and indices from the root, as {@code inspect} prints
 * them. Containers shared by several parents are walked under each (Python sees them under each
 * key too); a cycle or more than {@link #MAX_LEAVES} leaves is an error, not a hang.
 */
public final class TreeWalker {
  /** A shared-reference "billion laughs" tree must not walk forever. */
  static final long MAX_LEAVES = 10_000_000L;

  /** Receives the leaves. */
  public interface Visitor {
    void leaf(List<Object> path, Object value) throws CheckpointException;

    /** An empty dict, list or tuple (so that it is not lost). */
    default void empty(List<Object> path, String type) throws CheckpointException {}
  }

  private final Visitor visitor;
  private final Set<Object> onPath = Collections.newSetFromMap(new IdentityHashMap<>());
  private final List<Object> path = new ArrayList<>();
  private long leaves;

  private TreeWalker(Visitor visitor) {
    this.visitor = visitor;
  }

  /**
   * A leaf's path as {@code inspect} and {@code diff} print it: dict keys joined by {@code /},
   * list and tuple indices (and integer dict keys) as {@code [i]}; the root is {@code (root)}.
   */
  public static String pathName(List<Object> path) {
    if (path.isEmpty()) return "(root)";
    StringBuilder sb = new StringBuilder();
    for (Object k : path) {
      if (k instanceof Long i) sb.append('[').append(i).append(']');
      else sb.append(sb.length() == 0 ? "" : "/").append(k);
    }
    return sb.toString();
  }

  public static void walk(Object root, Visitor visitor) throws CheckpointException {
    new TreeWalker(visitor).visit(root);
  }

  private void visit(Object value) throws CheckpointException {
    if (value instanceof Map<?, ?> map) {
      enter(map);
      if (map.isEmpty()) visitor.empty(List.copyOf(path), "dict");
      for (Map.Entry<?, ?> e : map.entrySet()) {
        path.add(pathKey(e.getKey()));
        visit(e.getValue());
        path.remove(path.size() - 1);
      }
      onPath.remove(map);
    } else if (value instanceof List<?> list) {
      enter(list);
      if (list.isEmpty()) visitor.empty(List.copyOf(path), list instanceof PyTuple ? "tuple" : "list");
      for (int i = 0; i < list.size(); i++) {
        path.add((long) i);
        visit(list.get(i));
        path.remove(path.size() - 1);
      }
      onPath.remove(list);
    } else if (value instanceof PyObject object) {
      // An inert object is a leaf (its class), and its attributes (BUILD state) lie beneath it.
      countLeaf();
      visitor.leaf(List.copyOf(path), object);
      if (object.state() instanceof Map<?, ?> attributes && !attributes.isEmpty()) {
        enter(object);
        for (Map.Entry<?, ?> e : attributes.entrySet()) {
          path.add(pathKey(e.getKey()));
          visit(e.getValue());
          path.remove(path.size() - 1);
        }
        onPath.remove(object);
      }
    } else {
      countLeaf();
      visitor.leaf(List.copyOf(path), value);
    }
  }

  private void countLeaf() throws CheckpointException {
    {
      if (++leaves > MAX_LEAVES) {
        throw new CheckpointException(Kind.LIMIT_EXCEEDED,
            "the checkpoint's object tree has more than " + MAX_LEAVES
            + " leaves (shared references repeated): refusing to walk it");
      }
    }
  }

  private void enter(Object container) throws CheckpointException {
    if (!onPath.add(container)) {
      throw new CheckpointException(Kind.UNSUPPORTED_VALUE,
          "the checkpoint's object tree contains itself at "
          + path + ": cyclic structures cannot be listed");
    }
  }

  /** Dict keys as they are when str or int; anything else as Python's repr-like text. */
  private static Object pathKey(Object key) {
    if (key instanceof String || key instanceof Long) return key;
    if (key instanceof java.math.BigInteger) return key;
    if (key instanceof Boolean b) return b ? "True" : "False";
    if (key == null) return "None";
    return String.valueOf(key);
  }

}
