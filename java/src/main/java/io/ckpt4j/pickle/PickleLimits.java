package io.ckpt4j.pickle;

/**
 * Resource limits for one unpickling, so that a hostile file fails fast with a
 * {@link io.ckpt4j.CheckpointException} instead of exhausting memory, stack or time. Every limit
 * is positive; change some with a builder:
 *
 * <pre>{@code PickleLimits.DEFAULT.toBuilder().maxNestingDepth(5000).build()}</pre>
 *
 * Every length read from the file is also checked against what remains of the input, whatever
 * these limits say.
 *
 * @param maxMemoEntries at most this many memo entries, and memo indices below it
 * @param maxMarkDepth at most this many MARKs open at once
 * @param maxNestingDepth the result's containers nest at most this deep: a walker may recurse
 *     this far
 * @param maxStringBytes one str or bytes value holds at most this many bytes (and never more than
 *     the input)
 * @param maxIntegerBytes one LONG1/LONG4 int holds at most this many bytes; text ints at most the
 *     same bits
 * @param maxElements at most this many values pushed in all: bounds the memory of lists and memo
 *     bombs
 */
public record PickleLimits(int maxMemoEntries, int maxMarkDepth, int maxNestingDepth,
    long maxStringBytes, int maxIntegerBytes, long maxElements) {
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

  /** Checks that every limit is positive. */
  public PickleLimits {
    positive("maxMemoEntries", maxMemoEntries);
    positive("maxMarkDepth", maxMarkDepth);
    positive("maxNestingDepth", maxNestingDepth);
    positive("maxStringBytes", maxStringBytes);
    positive("maxIntegerBytes", maxIntegerBytes);
    positive("maxElements", maxElements);
  }

  /** A builder starting from the defaults. */
  public static Builder builder() {
    return DEFAULT.toBuilder();
  }

  /** A builder starting from these limits. */
  public Builder toBuilder() {
    return new Builder(this);
  }

  private static void positive(String name, long value) {
    if (value <= 0) {
      throw new IllegalArgumentException(name + " must be positive, not " + value);
    }
  }

  /** Sets some limits; {@link #build()} checks them all. */
  public static final class Builder {
    private int maxMemoEntries;
    private int maxMarkDepth;
    private int maxNestingDepth;
    private long maxStringBytes;
    private int maxIntegerBytes;
    private long maxElements;

    private Builder(PickleLimits from) {
      maxMemoEntries = from.maxMemoEntries;
      maxMarkDepth = from.maxMarkDepth;
      maxNestingDepth = from.maxNestingDepth;
      maxStringBytes = from.maxStringBytes;
      maxIntegerBytes = from.maxIntegerBytes;
      maxElements = from.maxElements;
    }

    public Builder maxMemoEntries(int value) {
      maxMemoEntries = value;
      return this;
    }

    public Builder maxMarkDepth(int value) {
      maxMarkDepth = value;
      return this;
    }

    public Builder maxNestingDepth(int value) {
      maxNestingDepth = value;
      return this;
    }

    public Builder maxStringBytes(long value) {
      maxStringBytes = value;
      return this;
    }

    public Builder maxIntegerBytes(int value) {
      maxIntegerBytes = value;
      return this;
    }

    public Builder maxElements(long value) {
      maxElements = value;
      return this;
    }

    public PickleLimits build() {
      return new PickleLimits(maxMemoEntries, maxMarkDepth, maxNestingDepth, maxStringBytes,
          maxIntegerBytes, maxElements);
    }
  }
}
