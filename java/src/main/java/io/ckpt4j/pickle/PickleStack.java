package io.ckpt4j.pickle;

import static io.ckpt4j.CheckpointException.Kind.LIMIT_EXCEEDED;
import static io.ckpt4j.CheckpointException.Kind.MALFORMED_PICKLE;

import io.ckpt4j.CheckpointException;
import java.util.Arrays;

/**
 * The pickle machine's value stack and MARK stack. As in Python, where MARK starts a fresh stack,
 * an opcode sees only the values above the last MARK; MARKs open at once and values pushed in all
 * are bounded by {@link PickleLimits}.
 */
final class PickleStack {
  private static final int INITIAL_STACK = 64;
  private static final int INITIAL_MARKS = 16;

  private final PickleInput in;
  private final int maxMarkDepth;
  private final long maxElements;
  private Object[] values = new Object[INITIAL_STACK];
  private int sp;
  private int[] marks = new int[INITIAL_MARKS];
  private int markTop;
  private long pushes;

  PickleStack(PickleInput in, PickleLimits limits) {
    this.in = in;
    this.maxMarkDepth = limits.maxMarkDepth();
    this.maxElements = limits.maxElements();
  }

  void push(Object value) throws CheckpointException {
    if (++pushes > maxElements) {
      throw in.error(LIMIT_EXCEEDED, "more than " + maxElements
          + " values in this pickle (PickleLimits.maxElements)");
    }
    if (sp == values.length) {
      values = Arrays.copyOf(values, values.length * 2);
    }
    values[sp++] = value;
  }

  /** Index where the values above the last MARK start. */
  private int base() {
    return markTop == 0 ? 0 : marks[markTop - 1];
  }

  /** Fails unless at least {@code count} values sit above the last MARK. */
  void need(int count) throws CheckpointException {
    int have = sp - base();
    if (have < count) {
      throw in.error(MALFORMED_PICKLE,
          "stack underflow: needs " + count + (count == 1 ? " value" : " values")
          + ", has " + have + (markTop == 0 ? "" : " above the last MARK"));
    }
  }

  Object pop() throws CheckpointException {
    need(1);
    Object v = values[--sp];
    values[sp] = null;
    return v;
  }

  /** The value {@code depth} below the top (0 is the top); {@link #need} must cover it. */
  Object peek(int depth) {
    return values[sp - 1 - depth];
  }

  /** Replaces the value {@code depth} below the top. */
  void set(int depth, Object value) {
    values[sp - 1 - depth] = value;
  }

  /** Drops the top {@code count} values ({@link #need} must cover them). */
  void drop(int count) {
    Arrays.fill(values, sp - count, sp, null);
    sp -= count;
  }

  /** True when nothing sits above the last MARK. */
  boolean frameEmpty() {
    return sp == base();
  }

  int markDepth() {
    return markTop;
  }

  int size() {
    return sp;
  }

  void mark() throws CheckpointException {
    if (markTop == maxMarkDepth) {
      throw in.error(LIMIT_EXCEEDED, "more than " + maxMarkDepth
          + " MARKs open at once (PickleLimits.maxMarkDepth)");
    }
    if (markTop == marks.length) {
      marks = Arrays.copyOf(marks, marks.length * 2);
    }
    marks[markTop++] = sp;
  }

  /**
   * Closes the last MARK and removes the values above it, returning them in order. The value
   * below the mark, if any, is then {@code peek(0)}.
   */
  Object[] popMark() throws CheckpointException {
    if (markTop == 0) {
      throw in.error(MALFORMED_PICKLE, "no MARK to close");
    }
    int from = marks[--markTop];
    Object[] items = Arrays.copyOfRange(values, from, sp);
    Arrays.fill(values, from, sp, null);
    sp = from;
    return items;
  }

  /** Closes the last MARK and drops the values above it (POP_MARK). */
  void discardMark() throws CheckpointException {
    if (markTop == 0) {
      throw in.error(MALFORMED_PICKLE, "no MARK to close");
    }
    int from = marks[--markTop];
    Arrays.fill(values, from, sp, null);
    sp = from;
  }

  /** The values on the stack from the bottom, for STOP. */
  Object bottom() {
    return values[0];
  }
}
