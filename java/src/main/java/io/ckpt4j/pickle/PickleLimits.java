package io.ckpt4j.pickle;

/**
 * Resource limits for one unpickling, so that a hostile file fails fast with a
 * {@link io.ckpt4j.CheckpointException} instead of exhausting memory, stack or time. Immutable;
 * change one limit with the {@code with...} methods:
 *
 * <pre>{@code PickleLimits.DEFAULT.withMaxNestingDepth(5000)}</pre>
 *
 * Every length read from the file is also checked against what remains of the input, whatever
 * these limits say.
 */
public final class PickleLimits {
  /** Memo entries, which also bounds memo indices. */
  public static final int DEFAULT_MAX_MEMO_ENTRIES = 1 << 20;
  /** MARKs open at once (nested tuples, lists and dicts being built). */
  public static final int DEFAULT_MAX_MARK_DEPTH = 10_000;
  /** Container nesting depth of the result (a list in a list is depth 2). */
  public static final int DEFAULT_MAX_NESTING_DEPTH = 1000;
  /** One str or bytes: no limit beyond the input itself and Java's array size. */
  public static final long DEFAULT_MAX_STRING_BYTES = Long.MAX_VALUE;
  /** One int from LONG1/LONG4 (4096 bytes is a 32768-bit int, about 9864 decimal digits). */
  public static final int DEFAULT_MAX_INTEGER_BYTES = 4096;
  /** Values pushed in all, counting every reference (DUP, GET) to an existing one. */
  public static final long DEFAULT_MAX_ELEMENTS = 1L << 26;

  /** The defaults above. */
  public static final PickleLimits DEFAULT = new PickleLimits(DEFAULT_MAX_MEMO_ENTRIES,
      DEFAULT_MAX_MARK_DEPTH, DEFAULT_MAX_NESTING_DEPTH, DEFAULT_MAX_STRING_BYTES,
      DEFAULT_MAX_INTEGER_BYTES, DEFAULT_MAX_ELEMENTS);

  private final int maxMemoEntries;
  private final int maxMarkDepth;
  private final int maxNestingDepth;
  private final long maxStringBytes;
  private final int maxIntegerBytes;
  private final long maxElements;

  private PickleLimits(int maxMemoEntries, int maxMarkDepth, int maxNestingDepth,
      long maxStringBytes, int maxIntegerBytes, long maxElements) {
    this.maxMemoEntries = positive("maxMemoEntries", maxMemoEntries);
    this.maxMarkDepth = positive("maxMarkDepth", maxMarkDepth);
    this.maxNestingDepth = positive("maxNestingDepth", maxNestingDepth);
    this.maxStringBytes = positive("maxStringBytes", maxStringBytes);
    this.maxIntegerBytes = positive("maxIntegerBytes", maxIntegerBytes);
    this.maxElements = positive("maxElements", maxElements);
  }

  /** At most this many memo entries, and memo indices below it. */
  public int maxMemoEntries() {
    return maxMemoEntries;
  }

  /** At most this many MARKs open at once. */
  public int maxMarkDepth() {
    return maxMarkDepth;
  }

  /** The result's containers nest at most this deep: a walker may recurse this far. */
  public int maxNestingDepth() {
    return maxNestingDepth;
  }

  /** One str or bytes value holds at most this many bytes (and never more than the input). */
  public long maxStringBytes() {
    return maxStringBytes;
  }

  /** One LONG1/LONG4 int holds at most this many bytes; text ints at most the same bits. */
  public int maxIntegerBytes() {
    return maxIntegerBytes;
  }

  /** At most this many values pushed in all: bounds the memory of lists and memo bombs. */
  public long maxElements() {
    return maxElements;
  }

  /** These limits with {@link #maxMemoEntries()} replaced. */
  public PickleLimits withMaxMemoEntries(int value) {
    return new PickleLimits(value, maxMarkDepth,
        maxNestingDepth, maxStringBytes, maxIntegerBytes, maxElements);
  }

  /** These limits with {@link #maxMarkDepth()} replaced. */
  public PickleLimits withMaxMarkDepth(int value) {
    return new PickleLimits(maxMemoEntries, value,
        maxNestingDepth, maxStringBytes, maxIntegerBytes, maxElements);
  }

  /** These limits with {@link #maxNestingDepth()} replaced. */
  public PickleLimits withMaxNestingDepth(int value) {
    return new PickleLimits(maxMemoEntries, maxMarkDepth,
        value, maxStringBytes, maxIntegerBytes, maxElements);
  }

  /** These limits with {@link #maxStringBytes()} replaced. */
  public PickleLimits withMaxStringBytes(long value) {
    return new PickleLimits(maxMemoEntries, maxMarkDepth,
        maxNestingDepth, value, maxIntegerBytes, maxElements);
  }

  /** These limits with {@link #maxIntegerBytes()} replaced. */
  public PickleLimits withMaxIntegerBytes(int value) {
    return new PickleLimits(maxMemoEntries, maxMarkDepth,
        maxNestingDepth, maxStringBytes, value, maxElements);
  }

  /** These limits with {@link #maxElements()} replaced. */
  public PickleLimits withMaxElements(long value) {
    return new PickleLimits(maxMemoEntries, maxMarkDepth,
        maxNestingDepth, maxStringBytes, maxIntegerBytes, value);
  }

  private static int positive(String name, int value) {
    if (value <= 0) {
      throw new IllegalArgumentException(name + " must be positive, not " + value);
    }
    return value;
  }

  private static long positive(String name, long value) {
    if (value <= 0) {
      throw new IllegalArgumentException(name + " must be positive, not " + value);
    }
    return value;
  }

  @Override
  public String toString() {
    return "PickleLimits{maxMemoEntries=" + maxMemoEntries + ", maxMarkDepth=" + maxMarkDepth
        + ", maxNestingDepth=" + maxNestingDepth + ", maxStringBytes=" + maxStringBytes
        + ", maxIntegerBytes=" + maxIntegerBytes + ", maxElements=" + maxElements + "}";
  }
}
