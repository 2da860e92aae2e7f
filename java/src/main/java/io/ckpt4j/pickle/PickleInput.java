package io.ckpt4j.pickle;

import static io.ckpt4j.CheckpointException.Kind.LIMIT_EXCEEDED;
import static io.ckpt4j.CheckpointException.Kind.MALFORMED_PICKLE;
import static io.ckpt4j.CheckpointException.Kind.TRUNCATED;

import io.ckpt4j.CheckpointException;
import io.ckpt4j.CheckpointException.Kind;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * The bytes of one pickle with bounds checks: every read is checked against the end of the input
 * (or of the current protocol-4 FRAME) before it happens, and fails with a message that names
 * the opcode and its byte offset. Offsets are positions in the caller's buffer.
 */
final class PickleInput {
  private static final int NEWLINE = '\n';
  /** Reads up to this size reuse one scratch array; larger ones get their own. */
  private static final int SCRATCH_LIMIT = 1 << 16;
  private static final int INITIAL_SCRATCH = 64;
  /** The largest Java array. */
  static final int MAX_ARRAY_LENGTH = Integer.MAX_VALUE - 8;

  private final ByteBuffer buf;
  private final int limit;
  private final String where;
  private int pos;
  /** Where reads must stop: {@link #limit}, or the end of the current frame. */
  private int end;
  private boolean inFrame;
  private int opStart;
  private int op;
  private int lineLength;
  private byte[] scratch = new byte[INITIAL_SCRATCH];

  PickleInput(ByteBuffer source, String where) {
    this.buf = source.duplicate().order(ByteOrder.LITTLE_ENDIAN);
    this.pos = source.position();
    this.limit = source.limit();
    this.end = limit;
    this.where = where;
  }

  /** Reads the next opcode byte and remembers where it started. */
  int nextOpcode() throws CheckpointException {
    if (inFrame && pos == end) {
      inFrame = false; // FRAME: the frame is used up; what follows is outside any frame
      end = limit;
    }
    opStart = pos;
    if (pos >= end) {
      throw new CheckpointException(TRUNCATED, "truncated pickle at byte " + pos + " of " + limit
          + " in " + where + ": the data ends before the STOP opcode");
    }
    op = buf.get(pos++) & 0xff;
    return op;
  }

  /** Position after the last byte read. */
  int position() {
    return pos;
  }

  /** Offset of the current opcode. */
  int opStart() {
    return opStart;
  }

  /** The current opcode. */
  int op() {
    return op;
  }

  String where() {
    return where;
  }

  /** An error at the current opcode: "OPCODE at byte N in WHERE: WHAT". */
  CheckpointException error(Kind kind, String what) {
    return error(kind, what, null);
  }

  /** An error at the current opcode that wraps a callee's failure. */
  CheckpointException error(Kind kind, String what, Throwable cause) {
    return new CheckpointException(kind, what, cause).at(location());
  }

  private String location() {
    return Opcodes.name(op) + " at byte " + opStart + " in " + where;
  }

  private void require(long n) throws CheckpointException {
    if (n > end - pos) {
      if (inFrame && n <= limit - pos) {
        throw error(MALFORMED_PICKLE, "its data runs past the end of its FRAME, at byte " + end);
      }
      throw new CheckpointException(TRUNCATED, "truncated pickle at byte " + opStart + " of "
          + limit + " in " + where + ": " + Opcodes.name(op) + " needs " + n + " more bytes, "
          + (end - pos) + " remain");
    }
  }

  int u8() throws CheckpointException {
    require(1);
    return buf.get(pos++) & 0xff;
  }

  int u16() throws CheckpointException {
    require(2);
    int v = buf.getShort(pos) & 0xffff;
    pos += 2;
    return v;
  }

  int i32() throws CheckpointException {
    require(4);
    int v = buf.getInt(pos);
    pos += 4;
    return v;
  }

  long u32() throws CheckpointException {
    return i32() & 0xffff_ffffL;
  }

  /** A uint64 length; one past {@link Long#MAX_VALUE} reads as negative and callers refuse it. */
  long u64() throws CheckpointException {
    require(8);
    long v = buf.getLong(pos);
    pos += 8;
    return v;
  }

  /** BINFLOAT's float64, big-endian. */
  double f64be() throws CheckpointException {
    require(8);
    long bits = Long.reverseBytes(buf.getLong(pos));
    pos += 8;
    return Double.longBitsToDouble(bits);
  }

  /** Checks a length read from the file: not negative, within {@code max}, within the input. */
  int checkLength(long n, long max, String limitName) throws CheckpointException {
    if (n < 0) {
      throw error(MALFORMED_PICKLE, "negative length " + n + " (or an unsigned length over 2^63)");
    }
    if (n > max) {
      throw error(LIMIT_EXCEEDED,
          "length " + n + " exceeds the limit of " + max + " (" + limitName + ")");
    }
    require(n);
    if (n > MAX_ARRAY_LENGTH) {
      throw error(LIMIT_EXCEEDED, "length " + n + " exceeds what one Java array holds");
    }
    return (int) n;
  }

  /** A fresh copy of the next {@code n} bytes (n already checked). */
  byte[] bytes(int n) throws CheckpointException {
    require(n);
    byte[] out = new byte[n];
    buf.get(pos, out, 0, n);
    pos += n;
    return out;
  }

  /**
   * The next {@code n} bytes in a scratch array valid until the next read (n already checked);
   * the data start at index 0.
   */
  byte[] borrow(int n) throws CheckpointException {
    require(n);
    byte[] out;
    if (n <= scratch.length) {
      out = scratch;
    } else if (n <= SCRATCH_LIMIT) {
      scratch = new byte[Math.max(n, scratch.length * 2)];
      out = scratch;
    } else {
      out = new byte[n];
    }
    buf.get(pos, out, 0, n);
    pos += n;
    return out;
  }

  /**
   * The bytes of a text line without its newline (protocol 0 arguments), in a scratch array
   * valid until the next read; its length is {@link #lineLength}.
   */
  byte[] line() throws CheckpointException {
    int i = pos;
    while (i < end && buf.get(i) != NEWLINE) {
      i++;
    }
    if (i >= end) {
      if (inFrame && i < limit) {
        throw error(MALFORMED_PICKLE,
            "its text line runs past the end of its FRAME, at byte " + end);
      }
      throw new CheckpointException(TRUNCATED, "truncated pickle at byte " + opStart + " of "
          + limit + " in " + where + ": " + Opcodes.name(op) + " has no end of line");
    }
    lineLength = i - pos;
    byte[] out = borrow(lineLength);
    pos++; // the newline
    return out;
  }

  /** Length of the last {@link #line()}. */
  int lineLength() {
    return lineLength;
  }

  /** FRAME: the next {@code n} bytes form a frame; opcodes may not run past its end. */
  void frame(long n) throws CheckpointException {
    if (inFrame && pos < end) {
      throw error(MALFORMED_PICKLE, "FRAME starts before the current frame ends, at byte " + end);
    }
    if (n < 0 || n > limit - pos) {
      throw error(TRUNCATED, "FRAME length " + Long.toUnsignedString(n) + " exceeds the "
          + (limit - pos) + " bytes left in the input");
    }
    inFrame = true;
    end = pos + (int) n;
  }
}
