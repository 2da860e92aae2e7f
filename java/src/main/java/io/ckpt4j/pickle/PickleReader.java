package io.ckpt4j.pickle;

import io.ckpt4j.CheckpointException;
import io.ckpt4j.CheckpointException.Kind;
import io.ckpt4j.value.PyBytes;
import io.ckpt4j.value.PyObject;
import io.ckpt4j.value.PyTuple;
import io.ckpt4j.value.PythonTypes;
import java.nio.ByteBuffer;
import java.util.Objects;

/**
 * A restricted unpickler: it interprets Python's pickle format (protocols 0 to 5) and never runs
 * code. Every global goes through the caller's {@link GlobalResolver}; a refused one is an
 * {@link UnsupportedGlobalException} that names it.
 *
 * <h2>Values</h2>
 *
 * {@code None} is {@code null}; bool {@link Boolean}; int {@link Long} when it fits, else
 * {@link java.math.BigInteger}; float {@link Double}; str {@link String}; bytes and bytearray
 * {@link PyBytes}; tuple {@link PyTuple}; list {@link java.util.ArrayList}; dict
 * {@link java.util.LinkedHashMap} (insertion order kept); set and frozenset
 * {@link java.util.LinkedHashSet}; inert objects {@link PyObject}; anything else is what the
 * resolver's objects returned. Python 2 {@code str} decodes with
 * {@link PickleOptions#py2StringCharset()} (ISO-8859-1 by default).
 *
 * <h2>Guarantees</h2>
 *
 * Bad or hostile input ends in a {@link CheckpointException} whose one-line message names the
 * byte offset (a position in the caller's buffer) and the input's name: truncation, unknown
 * opcodes, bad lengths, invalid UTF-8, unhashable dict keys, a stack that does not end with
 * exactly one value, and every {@link PickleLimits} limit. The interpreter does not recurse, and
 * the result's containers nest at most {@link PickleLimits#maxNestingDepth()} deep, so a
 * recursive walker of the result is safe; a value that contains itself is refused unless
 * {@link PickleOptions#allowCycles()}.
 *
 * <p>Unsupported on purpose: the extension registry (EXT1/2/4) and out-of-band buffers
 * (NEXT_BUFFER, READONLY_BUFFER). A frozenset is read as a set, and since a set is unhashable,
 * a frozenset used as a dict key or set element is refused.
 */
public final class PickleReader {
  private PickleReader() {}

  /**
   * Reads the pickle that fills {@code pickle} from its position to its limit, leaving the
   * buffer's position unchanged; bytes after STOP are an error.
   */
  public static Object load(ByteBuffer pickle, PickleOptions options) throws CheckpointException {
    Objects.requireNonNull(pickle, "pickle");
    Objects.requireNonNull(options, "options");
    Interpreter machine = new Interpreter(pickle, options);
    Object result = machine.run();
    if (machine.position() != pickle.limit()) {
      int extra = pickle.limit() - machine.position();
      throw new CheckpointException(Kind.MALFORMED_PICKLE,
          extra + (extra == 1 ? " byte" : " bytes") + " after the STOP"
          + " opcode at byte " + (machine.position() - 1) + " in " + options.where()
          + ": the input holds more than one pickle, or junk (PickleReader.loadNext reads"
          + " pickles back to back)");
    }
    checkNesting(result, options);
    return result;
  }

  /** Reads the pickle in {@code pickle}, which must hold exactly one. */
  public static Object load(byte[] pickle, PickleOptions options) throws CheckpointException {
    return load(ByteBuffer.wrap(pickle), options);
  }

  /**
   * Reads one pickle starting at the buffer's position and leaves the position just after its
   * STOP opcode, for inputs that hold several pickles back to back (PyTorch's legacy format:
   * magic number, protocol version, system info, the object, the storage keys). On error the
   * position is unchanged.
   */
  public static Object loadNext(ByteBuffer pickle, PickleOptions options)
      throws CheckpointException {
    Objects.requireNonNull(pickle, "pickle");
    Objects.requireNonNull(options, "options");
    Interpreter machine = new Interpreter(pickle, options);
    Object result = machine.run();
    checkNesting(result, options);
    pickle.position(machine.position());
    return result;
  }

  private static void checkNesting(Object result, PickleOptions options)
      throws CheckpointException {
    try {
      NestingCheck.check(result, options.limits().maxNestingDepth(), options.allowCycles(),
          options.where());
    } catch (RuntimeException e) { // a resolver's container misbehaved while being walked
      throw new CheckpointException(Kind.MALFORMED_PICKLE,
          "walking the unpickled value of " + options.where()
          + " failed: " + PythonTypes.printable(e.toString()), e);
    }
  }
}
