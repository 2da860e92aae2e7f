package io.ckpt4j.value;

import java.util.AbstractList;
import java.util.Collection;
import java.util.Map;
import java.util.RandomAccess;

/**
 * Python {@code tuple}: an immutable list. Equality and hash code follow the {@link java.util.List}
 * contract (element by element), so a tuple of hashable values works as a map key, as in Python.
 *
 * <p>A tuple is <em>hashable</em> when every element is: {@code None}, bool, int, float, str,
 * bytes, a hashable tuple, or an opaque object; a tuple that holds a list, dict or set is not,
 * and the unpickler refuses it as a dict key or set element, like Python's {@code TypeError}.
 * Because a hashable tuple can never change, its hash code is computed once, when it is made.
 */
public final class PyTuple extends AbstractList<Object> implements RandomAccess {
  /** {@code ()}. */
  public static final PyTuple EMPTY = new PyTuple(new Object[0]);

  private final Object[] items;
  private final boolean hashable;
  /** Only scalars and such tuples inside: no list, dict, set or object at any depth. */
  private final boolean flat;
  /** Container nesting depth: 1 for a tuple of scalars; a lower bound if it holds mutables. */
  private final int depth;
  private final int hash;

  private PyTuple(Object[] items) {
    this.items = items;
    boolean allHashable = true;
    boolean allFlat = true;
    int deepest = 0;
    for (Object item : items) {
      if (item instanceof PyTuple) {
        PyTuple inner = (PyTuple) item;
        allHashable &= inner.hashable;
        allFlat &= inner.flat;
        deepest = Math.max(deepest, inner.depth);
      } else if (item instanceof Collection || item instanceof Map) {
        allHashable = false;
        allFlat = false;
        deepest = Math.max(deepest, 1);
      } else if (item instanceof PyObject) {
        allFlat = false;
        deepest = Math.max(deepest, 1);
      }
    }
    this.hashable = allHashable;
    this.flat = allFlat;
    this.depth = deepest + 1;
    // A hashable tuple never changes, so its hash is computed now, from its elements' hashes
    // (an inner tuple's is already known): hashing never recurses, however deep the nesting.
    this.hash = allHashable ? super.hashCode() : 0;
  }

  /** A tuple of copies of the given references (the array is copied, not its elements). */
  public static PyTuple of(Object... items) {
    return items.length == 0 ? EMPTY : new PyTuple(items.clone());
  }

  /** Takes ownership of {@code items}: the caller must not change the array afterwards. */
  public static PyTuple wrap(Object[] items) {
    return items.length == 0 ? EMPTY : new PyTuple(items);
  }

  @Override
  public Object get(int index) {
    return items[index];
  }

  @Override
  public int size() {
    return items.length;
  }

  @Override
  public Object[] toArray() {
    return items.clone();
  }

  /** True when Python could hash this tuple: no list, dict or set inside, at any depth. */
  public boolean isHashable() {
    return hashable;
  }

  /** Container nesting depth: exact for {@link #isFlat} tuples, a lower bound otherwise. */
  public int depth() {
    return depth;
  }

  /** True when only scalars and flat tuples are inside: nothing mutable, no cycle possible. */
  public boolean isFlat() {
    return flat;
  }

  @Override
  public int hashCode() {
    return hashable ? hash : super.hashCode(); // a list inside may change
  }

  /**
   * True when Python could use {@code value} as a dict key or set element: anything but a list,
   * dict, set or a tuple holding one of those. Opaque objects hash by identity, as in Python.
   */
  public static boolean isHashable(Object value) {
    if (value instanceof PyTuple) {
      return ((PyTuple) value).hashable;
    }
    return !(value instanceof Collection || value instanceof Map);
  }

  /** Python's rendering, {@code (1, 'a')}, one level deep. */
  @Override
  public String toString() {
    if (items.length == 1) {
      return "(" + shallow(items[0]) + ",)";
    }
    StringBuilder sb = new StringBuilder("(");
    for (int i = 0; i < items.length; i++) {
      sb.append(i == 0 ? "" : ", ").append(shallow(items[i]));
    }
    return sb.append(')').toString();
  }

  private static String shallow(Object item) {
    if (item instanceof PyTuple) {
      return "(...)";
    } else if (item instanceof Collection || item instanceof Map) {
      return item.getClass().getSimpleName() + "[...]";
    } else if (item instanceof String) {
      return "'" + item + "'";
    }
    return String.valueOf(item);
  }
}
