package io.ckpt4j.pickle;

import io.ckpt4j.CheckpointException;
import io.ckpt4j.CheckpointException.Kind;
import io.ckpt4j.value.PyGlobalRef;
import io.ckpt4j.value.PyOrderedDict;

/**
 * Writes values of the unpickler's value model as a protocol 2 pickle, the protocol
 * {@code torch.save} uses, opcode for opcode as Python's own pickler would: {@code None}, bool,
 * int (BININT1/BININT2/BININT, then LONG1/LONG4), float (BINFLOAT), str (BINUNICODE), bytes
 * ({@code _codecs.encode(str, 'latin1')} through REDUCE, since protocol 2 has no bytes opcode),
 * tuple, list and dict (APPENDS and SETITEMS in batches of {@value #BATCH_SIZE}), set
 * ({@code builtins.set([...])}), {@link PyOrderedDict} ({@code collections.OrderedDict} with its
 * attributes as BUILD state) and {@link PyGlobalRef} (a GLOBAL).
 *
 * <p>Like Python's pickler it memoizes by identity: an object written twice (the same
 * {@code String}, list, dict, tuple, bytes or custom value) is written once and fetched with
 * BINGET after, so shared values come back shared, and a list that contains itself works. Equal
 * but distinct objects are written twice, as in Python.
 *
 * <p>Two differences from Python: empty bytes are written as {@code _codecs.encode('', 'latin1')}
 * rather than {@code builtins.bytes()}, which PyTorch's weights-only unpickler refuses; and a
 * frozenset cannot be told from a set, so it is written as one.
 *
 * <p>Other values go to a {@link Custom} hook that writes them with the {@link Emitter}, as the
 * tensor layer does for tensors (GLOBAL, MARK, BINPERSID, TUPLE, REDUCE).
 */
public final class PickleWriter {
  /** The protocol written: {@code torch.save}'s default. */
  public static final int PROTOCOL = 2;
  /** Items per APPENDS or SETITEMS, as Python's pickler batches them. */
  public static final int BATCH_SIZE = 1000;
  /** Containers may nest at most this deep: the writer recurses once per level. */
  public static final int MAX_DEPTH = PickleLimits.DEFAULT_MAX_NESTING_DEPTH;

  private PickleWriter() {}

  /** Writes values the writer does not know. */
  @FunctionalInterface
  public interface Custom {
    /**
     * Writes {@code value} with {@code out}, leaving exactly one value on the pickle stack, and
     * returns true; or returns false, writing nothing, if this hook does not know the value
     * either (then the writer fails). A value already written is fetched from the memo without
     * asking; call {@link Emitter#memoize} after writing one that may be shared.
     */
    boolean save(Object value, Emitter out) throws CheckpointException;
  }

  /**
   * Opcode-level access to the pickle being written, for {@link Custom} hooks. Methods that take
   * values write them in full, memo and hooks included.
   */
  public interface Emitter {
    /** Writes any value, through the memo and the hooks. */
    void save(Object value) throws CheckpointException;

    /** GLOBAL {@code module\nname\n}, memoized: a second use is a BINGET. */
    void global(String module, String name) throws CheckpointException;

    /** Writes {@code pid} then BINPERSID: the reader's persistent loader gets {@code pid}. */
    void persistentId(Object pid) throws CheckpointException;

    /** MARK, to start the items of a {@link #tuple()}. */
    void mark();

    /** TUPLE: the items since the last MARK become a tuple. */
    void tuple();

    /** REDUCE: calls the callable below the top with the argument tuple on top. */
    void reduce();

    /** BUILD: gives the state on top to the object below it. */
    void build();

    /** NEWOBJ: {@code cls.__new__(cls, *args)} for the class below the argument tuple on top. */
    void newObject();

    /** Memoizes the value on top of the pickle stack as {@code value}, for reuse by identity. */
    void memoize(Object value);

    /** If {@code value} was memoized, writes a BINGET for it and returns true. */
    boolean reuse(Object value);
  }

  /** The pickle of {@code value}; fails on a value outside the value model. */
  public static byte[] toBytes(Object value) throws CheckpointException {
    return toBytes(value, null);
  }

  /** The pickle of {@code value}, with {@code custom} (may be null) for values it does not know. */
  public static byte[] toBytes(Object value, Custom custom) throws CheckpointException {
    PickleEmitter out = new PickleEmitter(custom);
    try {
      out.header(PROTOCOL);
      out.save(value);
      return out.finish();
    } catch (PickleEmitter.TooLargeException e) {
      throw new CheckpointException(Kind.LIMIT_EXCEEDED,
          "cannot pickle the value: " + e.getMessage(), e);
    }
  }
}
