package io.ckpt4j.pickle;

import java.util.Arrays;

/**
 * The unpickler's memo: a dense table indexed by memo key. Keys are bounded by
 * {@link PickleLimits#maxMemoEntries()}, so the table never grows past that however the file
 * numbers its entries; Python's own picklers number them 0, 1, 2, ...
 */
final class Memo {
  private static final int INITIAL_CAPACITY = 64;
  /** Stands for a memoized None, since an empty slot is {@code null}. */
  private static final Object NONE = new Object();

  private final int maxEntries;
  private Object[] slots = new Object[INITIAL_CAPACITY];
  private int count;

  Memo(int maxEntries) {
    this.maxEntries = maxEntries;
  }

  /** Python's {@code len(memo)}, the key MEMOIZE uses. */
  int size() {
    return count;
  }

  /** False when {@code key} is past the limit: the caller reports it. */
  boolean fits(long key) {
    return key >= 0 && key < maxEntries;
  }

  /** Stores {@code value} at {@code key}, which {@link #fits}. */
  void put(int key, Object value) {
    if (key >= slots.length) {
      long grown = Math.min(maxEntries, Math.max(key + 1L, slots.length * 2L));
      slots = Arrays.copyOf(slots, (int) grown);
    }
    if (slots[key] == null) {
      count++;
    }
    slots[key] = value == null ? NONE : value;
  }

  /** True when something was stored at {@code key}. */
  boolean contains(long key) {
    return key >= 0 && key < slots.length && slots[(int) key] != null;
  }

  /** The value at {@code key}, which {@link #contains}. */
  Object get(int key) {
    Object v = slots[key];
    return v == NONE ? null : v;
  }
}
