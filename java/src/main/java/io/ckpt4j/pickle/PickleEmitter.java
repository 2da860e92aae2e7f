package io.ckpt4j.pickle;

import io.ckpt4j.CheckpointException;
import io.ckpt4j.CheckpointException.Kind;
import io.ckpt4j.value.PyBytes;
import io.ckpt4j.value.PyGlobalRef;
import io.ckpt4j.value.PyOrderedDict;
import io.ckpt4j.value.PyTuple;
import io.ckpt4j.value.PythonTypes;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The protocol 2 pickler behind {@link PickleWriter}: Python's {@code pickle._Pickler} for the
 * value model, with an identity memo and the same opcode choices.
 */
final class PickleEmitter implements PickleWriter.Emitter {
  private static final int INITIAL_CAPACITY = 256;
  private static final int UINT8_MAX = 0xff;
  private static final int UINT16_MAX = 0xffff;
  /** Strings and lengths in BINUNICODE and LONG4 carry a 4-byte length. */
  private static final long UINT32_MAX = 0xffff_ffffL;
  /** Python's {@code str(bytes, 'latin1')} trick: one object, so later uses are BINGETs. */
  private static final String LATIN1 = "latin1";

  private final PickleWriter.Custom custom;
  private final Map<Object, Integer> memo = new IdentityHashMap<>();
  private final Map<String, Integer> globals = new HashMap<>();
  private byte[] buf = new byte[INITIAL_CAPACITY];
  private int size;
  private int depth;
  /** Python's {@code len(memo)}: the next memo index; globals share the memo. */
  private int nextMemoIndex;

  /** The pickle would not fit one Java array (about 2 GiB). */
  static final class TooLargeException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    TooLargeException(long needed) {
      super("the pickle would take " + needed + " bytes, more than one Java array holds");
    }
  }

  PickleEmitter(PickleWriter.Custom custom) {
    this.custom = custom;
  }

  void header(int protocol) {
    write(Opcodes.PROTO);
    write(protocol);
  }

  byte[] finish() {
    write(Opcodes.STOP);
    return Arrays.copyOf(buf, size);
  }

  // ---- output

  private void ensure(long more) {
    long needed = size + more;
    if (needed > buf.length) {
      if (needed > PickleInput.MAX_ARRAY_LENGTH) {
        throw new TooLargeException(needed);
      }
      long grown = Math.max(needed, Math.min(PickleInput.MAX_ARRAY_LENGTH, buf.length * 2L));
      buf = Arrays.copyOf(buf, (int) grown);
    }
  }

  private void write(int b) {
    ensure(1);
    buf[size++] = (byte) b;
  }

  private void writeIntLe(int v) {
    ensure(Integer.BYTES);
    for (int i = 0; i < Integer.BYTES; i++) {
      buf[size++] = (byte) (v >>> (Byte.SIZE * i));
    }
  }

  private void writeBytes(byte[] b) {
    ensure(b.length);
    System.arraycopy(b, 0, buf, size, b.length);
    size += b.length;
  }

  // ---- Emitter

  @Override
  public void save(Object value) throws CheckpointException {
    if (value == null) {
      write(Opcodes.NONE);
    } else if (value instanceof Boolean) {
      write((Boolean) value ? Opcodes.NEWTRUE : Opcodes.NEWFALSE);
    } else if (value instanceof Long || value instanceof Integer || value instanceof Short
        || value instanceof Byte) {
      saveLong(((Number) value).longValue());
    } else if (value instanceof BigInteger) {
      saveBigInteger((BigInteger) value);
    } else if (value instanceof Double || value instanceof Float) {
      write(Opcodes.BINFLOAT);
      long bits = Double.doubleToRawLongBits(((Number) value).doubleValue());
      ensure(Long.BYTES);
      for (int i = Long.BYTES - 1; i >= 0; i--) {
        buf[size++] = (byte) (bits >>> (Byte.SIZE * i)); // big-endian
      }
    } else if (!reuse(value)) {
      saveObject(value);
    }
  }

  private void saveObject(Object value) throws CheckpointException {
    if (value instanceof String) {
      saveString((String) value);
      memoize(value);
      return;
    }
    if (value instanceof PyGlobalRef) {
      global(((PyGlobalRef) value).module(), ((PyGlobalRef) value).name());
      return;
    }
    if (++depth > PickleWriter.MAX_DEPTH) {
      throw new CheckpointException(Kind.LIMIT_EXCEEDED,
          "cannot pickle a value that nests containers more than "
          + PickleWriter.MAX_DEPTH + " deep");
    }
    try {
      if (value instanceof PyBytes) {
        saveBytes((PyBytes) value);
      } else if (value instanceof PyTuple) {
        saveTuple((PyTuple) value);
      } else if (value instanceof PyOrderedDict) {
        saveOrderedDict((PyOrderedDict) value);
      } else if (value instanceof List) {
        write(Opcodes.EMPTY_LIST);
        memoize(value);
        batchAppends((List<?>) value);
      } else if (value instanceof Map) {
        write(Opcodes.EMPTY_DICT);
        memoize(value);
        batchSetItems((Map<?, ?>) value);
      } else if (value instanceof Set) {
        saveSet((Set<?>) value);
      } else if (custom == null || !custom.save(value, this)) {
        throw new CheckpointException(Kind.UNSUPPORTED_VALUE,
            "cannot pickle a " + PythonTypes.name(value)
            + ": it is outside the pickle value model and no PickleWriter.Custom hook took it");
      }
    } finally {
      depth--;
    }
  }

  @Override
  public void global(String module, String name) throws CheckpointException {
    String key = module + "\n" + name;
    Integer known = globals.get(key);
    if (known != null) {
      get(known);
      return;
    }
    if (module.indexOf('\n') >= 0 || name.indexOf('\n') >= 0) {
      throw new CheckpointException(Kind.UNSUPPORTED_VALUE,
          "cannot pickle the global '" + module + "." + name
          + "': a newline in its name");
    }
    if (!isAscii(module) || !isAscii(name)) {
      throw new CheckpointException(Kind.UNSUPPORTED_VALUE,
          "cannot pickle the global '" + module + "." + name
          + "' with protocol 2: its name is not ASCII");
    }
    write(Opcodes.GLOBAL);
    writeBytes((module + "\n" + name + "\n").getBytes(StandardCharsets.US_ASCII));
    int index = nextMemoIndex++;
    put(index);
    globals.put(key, index);
  }

  @Override
  public void persistentId(Object pid) throws CheckpointException {
    save(pid);
    write(Opcodes.BINPERSID);
  }

  @Override
  public void mark() {
    write(Opcodes.MARK);
  }

  @Override
  public void tuple() {
    write(Opcodes.TUPLE);
  }

  @Override
  public void reduce() {
    write(Opcodes.REDUCE);
  }

  @Override
  public void build() {
    write(Opcodes.BUILD);
  }

  @Override
  public void newObject() {
    write(Opcodes.NEWOBJ);
  }

  @Override
  public void memoize(Object value) {
    int index = nextMemoIndex++;
    put(index);
    memo.put(value, index);
  }

  @Override
  public boolean reuse(Object value) {
    Integer index = memo.get(value);
    if (index == null) {
      return false;
    }
    get(index);
    return true;
  }

  private void put(int index) {
    if (index <= UINT8_MAX) {
      write(Opcodes.BINPUT);
      write(index);
    } else {
      write(Opcodes.LONG_BINPUT);
      writeIntLe(index);
    }
  }

  private void get(int index) {
    if (index <= UINT8_MAX) {
      write(Opcodes.BINGET);
      write(index);
    } else {
      write(Opcodes.LONG_BINGET);
      writeIntLe(index);
    }
  }

  // ---- values

  /** Python's save_long for protocol 2: the smallest BININT form, else LONG1. */
  private void saveLong(long v) {
    if (v >= 0 && v <= UINT8_MAX) {
      write(Opcodes.BININT1);
      write((int) v);
    } else if (v >= 0 && v <= UINT16_MAX) {
      write(Opcodes.BININT2);
      write((int) v & UINT8_MAX);
      write((int) (v >>> Byte.SIZE));
    } else if (v >= Integer.MIN_VALUE && v <= Integer.MAX_VALUE) {
      write(Opcodes.BININT);
      writeIntLe((int) v);
    } else {
      saveBigInteger(BigInteger.valueOf(v));
    }
  }

  /** LONG1 or LONG4 with the shortest two's complement, little-endian, as encode_long writes. */
  private void saveBigInteger(BigInteger v) {
    if (v.bitLength() < Integer.SIZE) { // fits BININT: saveLong picks the form
      saveLong(v.longValue());
      return;
    }
    byte[] bigEndian = v.toByteArray(); // minimal two's complement
    int n = bigEndian.length;
    if (n <= UINT8_MAX) {
      write(Opcodes.LONG1);
      write(n);
    } else {
      write(Opcodes.LONG4);
      writeIntLe(n);
    }
    ensure(n);
    for (int i = n - 1; i >= 0; i--) {
      buf[size++] = bigEndian[i];
    }
  }

  private void saveString(String s) throws CheckpointException {
    long n = Utf8.encodedLength(s, true);
    if (n > UINT32_MAX) {
      throw new CheckpointException(Kind.LIMIT_EXCEEDED,
          "cannot pickle a str of " + n + " UTF-8 bytes with protocol 2");
    }
    write(Opcodes.BINUNICODE);
    writeIntLe((int) n);
    ensure(n);
    Utf8.encodeInto(s, buf, size);
    size += (int) n;
  }

  /** {@code _codecs.encode(str(b, 'latin1'), 'latin1')}, Python's protocol 2 bytes. */
  private void saveBytes(PyBytes b) throws CheckpointException {
    global("_codecs", "encode");
    save(PyTuple.of(new String(b.array(), StandardCharsets.ISO_8859_1), LATIN1));
    write(Opcodes.REDUCE);
    memoize(b);
  }

  /** Python's save_tuple: TUPLE1-3 or MARK..TUPLE, and a BINGET if saving the items saved it. */
  private void saveTuple(PyTuple t) throws CheckpointException {
    int n = t.size();
    if (n == 0) {
      write(Opcodes.EMPTY_TUPLE);
      return;
    }
    boolean small = n <= 3;
    if (!small) {
      write(Opcodes.MARK);
    }
    for (Object item : t) {
      save(item);
    }
    Integer index = memo.get(t);
    if (index != null) {
      // An item held the tuple (through a list): it is written already; drop the items.
      if (small) {
        for (int i = 0; i < n; i++) {
          write(Opcodes.POP);
        }
      } else {
        write(Opcodes.POP_MARK);
      }
      get(index);
      return;
    }
    write(small ? Opcodes.TUPLE1 + n - 1 : Opcodes.TUPLE);
    memoize(t);
  }

  /** {@code set([...])} by REDUCE: protocol 2 has no set opcodes. */
  private void saveSet(Set<?> set) throws CheckpointException {
    global("__builtin__", "set");
    save(PyTuple.of(new ArrayList<>(set)));
    write(Opcodes.REDUCE);
    memoize(set);
  }

  /** OrderedDict's {@code __reduce__}: (cls, (), attributes or None, None, items). */
  private void saveOrderedDict(PyOrderedDict dict) throws CheckpointException {
    global("collections", "OrderedDict");
    write(Opcodes.EMPTY_TUPLE);
    write(Opcodes.REDUCE);
    memoize(dict);
    batchSetItems(dict);
    if (!dict.attributes().isEmpty()) {
      save(new LinkedHashMap<Object, Object>(dict.attributes()));
      write(Opcodes.BUILD);
    }
  }

  private void batchAppends(List<?> list) throws CheckpointException {
    Iterator<?> it = list.iterator();
    while (it.hasNext()) {
      Object first = it.next();
      if (!it.hasNext()) {
        save(first);
        write(Opcodes.APPEND);
        return;
      }
      write(Opcodes.MARK);
      save(first);
      for (int k = 1; k < PickleWriter.BATCH_SIZE && it.hasNext(); k++) {
        save(it.next());
      }
      write(Opcodes.APPENDS);
    }
  }

  private void batchSetItems(Map<?, ?> map) throws CheckpointException {
    Iterator<? extends Map.Entry<?, ?>> it = map.entrySet().iterator();
    while (it.hasNext()) {
      Map.Entry<?, ?> first = it.next();
      if (!it.hasNext()) {
        save(first.getKey());
        save(first.getValue());
        write(Opcodes.SETITEM);
        return;
      }
      write(Opcodes.MARK);
      save(first.getKey());
      save(first.getValue());
      for (int k = 1; k < PickleWriter.BATCH_SIZE && it.hasNext(); k++) {
        Map.Entry<?, ?> e = it.next();
        save(e.getKey());
        save(e.getValue());
      }
      write(Opcodes.SETITEMS);
    }
  }

  private static boolean isAscii(String s) {
    for (int i = 0; i < s.length(); i++) {
      if (s.charAt(i) >= 0x80) {
        return false;
      }
    }
    return true;
  }
}
