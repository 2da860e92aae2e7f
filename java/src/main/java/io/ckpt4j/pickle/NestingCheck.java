package io.ckpt4j.pickle;

import io.ckpt4j.CheckpointException;
import io.ckpt4j.CheckpointException.Kind;
import io.ckpt4j.value.PyObject;
import io.ckpt4j.value.PyOrderedDict;
import io.ckpt4j.value.PyTuple;
import io.ckpt4j.value.PythonTypes;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.Collection;
import java.util.IdentityHashMap;
import java.util.Iterator;
import java.util.Map;
import java.util.NoSuchElementException;

/**
 * Checks, without recursion, that an unpickled value nests containers at most a given depth, so
 * that code walking it recursively cannot overflow its stack; and refuses values that contain
 * themselves unless cycles are allowed.
 *
 * <p>Containers are lists, tuples, dicts, sets and {@link PyObject}s (whose arguments, keyword
 * arguments, state, list items and dict items each count as one more level, as do a
 * {@link PyOrderedDict}'s attributes); a scalar or opaque
 * resolver object is depth 0, a container 1 + its deepest element. Shared containers are measured
 * once (the walk keeps each one's height), so the check is linear in the size of the value even
 * when sharing makes the tree exponentially large. With cycles allowed, a reference back to a
 * container being walked is not followed.
 */
final class NestingCheck {
  private static final int IN_PROGRESS = -1;

  private NestingCheck() {}

  static void check(Object root, int maxDepth, boolean allowCycles, String where)
      throws CheckpointException {
    if (!isContainer(root)) {
      return;
    }
    IdentityHashMap<Object, Integer> heights = new IdentityHashMap<>();
    ArrayDeque<Frame> path = new ArrayDeque<>();
    heights.put(root, IN_PROGRESS);
    path.push(new Frame(root));
    checkDepth(1, maxDepth, where);
    while (!path.isEmpty()) {
      Frame frame = path.peek();
      if (frame.children.hasNext()) {
        Object child = frame.children.next();
        if (!isContainer(child)) {
          continue;
        }
        if (child instanceof PyTuple && ((PyTuple) child).isFlat()) {
          int height = ((PyTuple) child).depth(); // exact, and nothing inside can change
          frame.deepestChild = Math.max(frame.deepestChild, height);
          checkDepth(path.size() + height, maxDepth, where);
          continue;
        }
        Integer height = heights.get(child);
        if (height == null) {
          heights.put(child, IN_PROGRESS);
          path.push(new Frame(child));
          checkDepth(path.size(), maxDepth, where);
        } else if (height == IN_PROGRESS) {
          if (!allowCycles) {
            throw new CheckpointException(Kind.UNSUPPORTED_VALUE, "the unpickled value in " + where
                + " contains itself (a " + PythonTypes.name(child) + " reached again inside"
                + " itself, at depth " + path.size() + "): ckpt4j does not read cyclic values"
                + " (PickleOptions.allowCycles)");
          }
        } else {
          frame.deepestChild = Math.max(frame.deepestChild, height);
          checkDepth(path.size() + height, maxDepth, where);
        }
      } else {
        path.pop();
        int height = frame.deepestChild + 1;
        heights.put(frame.node, height);
        Frame parent = path.peek();
        if (parent != null) {
          parent.deepestChild = Math.max(parent.deepestChild, height);
        }
      }
    }
  }

  private static void checkDepth(int depth, int maxDepth, String where) throws CheckpointException {
    if (depth > maxDepth) {
      throw new CheckpointException(Kind.LIMIT_EXCEEDED,
          "the unpickled value in " + where + " nests containers more"
          + " than " + maxDepth + " deep (PickleLimits.maxNestingDepth)");
    }
  }

  static boolean isContainer(Object value) {
    return value instanceof Collection || value instanceof Map || value instanceof PyObject;
  }

  /** A container being walked and how far its walk has come. */
  private static final class Frame {
    final Object node;
    final Iterator<?> children;
    int deepestChild;

    Frame(Object node) {
      this.node = node;
      this.children = childrenOf(node);
    }
  }

  private static Iterator<?> childrenOf(Object node) {
    if (node instanceof Collection) {
      return ((Collection<?>) node).iterator();
    }
    if (node instanceof PyOrderedDict) {
      // The items, then the attributes BUILD gave (a state dict's _metadata), as one child.
      return new KeysAndValues(((Map<?, ?>) node).entrySet().iterator(),
          ((PyOrderedDict) node).attributes());
    }
    if (node instanceof Map) {
      return new KeysAndValues(((Map<?, ?>) node).entrySet().iterator(), null);
    }
    PyObject object = (PyObject) node;
    return Arrays.asList(object.args(), object.kwargs(), object.state(),
        object.mutableListItems(), object.mutableDictItems()).iterator();
  }

  /** A map's keys and values, alternating, then optionally one more child. */
  private static final class KeysAndValues implements Iterator<Object> {
    private final Iterator<? extends Map.Entry<?, ?>> entries;
    private Map.Entry<?, ?> pending;
    private Object last;

    KeysAndValues(Iterator<? extends Map.Entry<?, ?>> entries, Object last) {
      this.entries = entries;
      this.last = last;
    }

    @Override
    public boolean hasNext() {
      return pending != null || entries.hasNext() || last != null;
    }

    @Override
    public Object next() {
      if (pending != null) {
        Object value = pending.getValue();
        pending = null;
        return value;
      }
      if (entries.hasNext()) {
        pending = entries.next();
        return pending.getKey();
      }
      if (last == null) {
        throw new NoSuchElementException();
      }
      Object result = last;
      last = null;
      return result;
    }
  }
}
