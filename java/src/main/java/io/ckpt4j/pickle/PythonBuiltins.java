package io.ckpt4j.pickle;

import io.ckpt4j.CheckpointException;
import io.ckpt4j.CheckpointException.Kind;
import io.ckpt4j.value.PyBytes;
import io.ckpt4j.value.PyCallable;
import io.ckpt4j.value.PyGlobalRef;
import io.ckpt4j.value.PyOrderedDict;
import io.ckpt4j.value.PyTuple;
import io.ckpt4j.value.PythonTypes;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * The harmless Python built-ins that plain data pickles use, as Java callables that build values
 * of the value model; {@link GlobalResolver#pythonBuiltins()} documents the list.
 */
final class PythonBuiltins {
  static final GlobalResolver RESOLVER = PythonBuiltins::resolve;

  private static final PyGlobalRef OBJECT = new PyGlobalRef("builtins", "object");

  /** Python's spellings of its codecs, after lower-casing and '-' or ' ' to '_'. */
  private static final Set<String> LATIN_1 =
      Set.of("latin_1", "latin1", "latin", "l1", "iso8859_1", "iso_8859_1", "8859", "cp819");
  private static final Set<String> UTF_8 = Set.of("utf_8", "utf8", "u8", "utf", "cp65001");
  private static final Set<String> ASCII = Set.of("ascii", "us_ascii", "646");
  private static final int LATIN_1_MAX = 0xFF;
  private static final int ASCII_MAX = 0x7F;
  private static final int BYTE_MAX = 0xFF;

  private PythonBuiltins() {}

  private static Object resolve(String module, String name) throws UnsupportedGlobalException {
    switch (module + "." + name) {
      case "collections.OrderedDict":
        return (PyCallable) PythonBuiltins::orderedDict;
      case "builtins.set":
      case "builtins.frozenset":
        return (PyCallable) PythonBuiltins::set;
      case "builtins.bytearray":
      case "builtins.bytes":
        return (PyCallable) PythonBuiltins::bytes;
      case "_codecs.encode":
        return (PyCallable) PythonBuiltins::encode;
      case "builtins.object":
        return OBJECT;
      case "copyreg._reconstructor":
        return (PyCallable) PythonBuiltins::reconstructor;
      default:
        throw new UnsupportedGlobalException(module, name);
    }
  }

  /** {@code OrderedDict()}, {@code OrderedDict(dict)} or {@code OrderedDict([(k, v), ...])}. */
  private static Object orderedDict(PyTuple args) throws CheckpointException {
    checkArity("collections.OrderedDict", args, 0, 1);
    PyOrderedDict result = new PyOrderedDict();
    if (args.isEmpty()) {
      return result;
    }
    Object source = args.get(0);
    if (source instanceof Map) {
      result.putAll((Map<?, ?>) source); // the keys of a dict are hashable already
    } else if (source instanceof List) {
      for (Object pair : (List<?>) source) {
        if (!(pair instanceof List) || ((List<?>) pair).size() != 2) {
          throw new CheckpointException(Kind.MALFORMED_PICKLE,
              "collections.OrderedDict items must be (key, value)"
              + " pairs, not " + PythonTypes.name(pair));
        }
        Object key = ((List<?>) pair).get(0);
        requireHashable("collections.OrderedDict key", key);
        result.put(key, ((List<?>) pair).get(1));
      }
    } else {
      throw new CheckpointException(Kind.MALFORMED_PICKLE,
          "collections.OrderedDict needs a dict or a list of pairs,"
          + " not " + PythonTypes.name(source));
    }
    return result;
  }

  /** {@code set()} or {@code set(iterable)}; {@code frozenset} alike (it reads as a set). */
  private static Object set(PyTuple args) throws CheckpointException {
    checkArity("builtins.set", args, 0, 1);
    Set<Object> result = new LinkedHashSet<>();
    if (args.isEmpty()) {
      return result;
    }
    Object source = args.get(0);
    if (!(source instanceof List || source instanceof Set)) {
      throw new CheckpointException(Kind.MALFORMED_PICKLE,
          "builtins.set needs a list, tuple or set, not "
          + PythonTypes.name(source));
    }
    for (Object item : (Collection<?>) source) {
      requireHashable("set element", item);
      result.add(item);
    }
    return result;
  }

  /** {@code bytes()}/{@code bytearray()} of nothing, bytes, a list of ints, or (str, encoding). */
  private static Object bytes(PyTuple args) throws CheckpointException {
    checkArity("builtins.bytes", args, 0, 3);
    if (args.isEmpty()) {
      return PyBytes.EMPTY;
    }
    Object source = args.get(0);
    if (source instanceof String) {
      if (args.size() < 2) {
        throw new CheckpointException(Kind.MALFORMED_PICKLE,
            "builtins.bytes of a str needs an encoding");
      }
      return encode(args);
    }
    if (args.size() != 1) {
      throw new CheckpointException(Kind.MALFORMED_PICKLE,
          "builtins.bytes takes an encoding only with a str argument");
    }
    if (source instanceof PyBytes) {
      return source;
    }
    if (source instanceof List) {
      List<?> ints = (List<?>) source;
      byte[] out = new byte[ints.size()];
      for (int i = 0; i < out.length; i++) {
        Object v = ints.get(i);
        if (!(v instanceof Long) || (Long) v < 0 || (Long) v > BYTE_MAX) {
          throw new CheckpointException(Kind.MALFORMED_PICKLE,
              "builtins.bytes needs ints in range(0, 256), not " + v);
        }
        out[i] = (byte) (long) (Long) v;
      }
      return PyBytes.wrap(out);
    }
    throw new CheckpointException(Kind.MALFORMED_PICKLE,
        "builtins.bytes cannot be made from " + PythonTypes.name(source));
  }

  /** {@code _codecs.encode(str, encoding='utf-8', errors='strict')} for Latin-1, UTF-8, ASCII. */
  private static Object encode(PyTuple args) throws CheckpointException {
    checkArity("_codecs.encode", args, 1, 3);
    if (!(args.get(0) instanceof String)) {
      throw new CheckpointException(Kind.MALFORMED_PICKLE, "_codecs.encode needs a str, not "
          + PythonTypes.name(args.get(0)));
    }
    String text = (String) args.get(0);
    String encoding = "utf-8";
    if (args.size() > 1) {
      if (!(args.get(1) instanceof String)) {
        throw new CheckpointException(Kind.MALFORMED_PICKLE,
            "_codecs.encode encoding must be a str, not "
            + PythonTypes.name(args.get(1)));
      }
      encoding = (String) args.get(1);
    }
    if (args.size() > 2 && !"strict".equals(args.get(2))) {
      throw new CheckpointException(Kind.UNSUPPORTED_FORMAT,
          "_codecs.encode supports only errors='strict'");
    }
    String codec = encoding.toLowerCase(Locale.ROOT).replace('-', '_').replace(' ', '_');
    if (LATIN_1.contains(codec) || ASCII.contains(codec)) {
      int max = LATIN_1.contains(codec) ? LATIN_1_MAX : ASCII_MAX;
      byte[] out = new byte[text.length()];
      for (int i = 0; i < out.length; i++) {
        char c = text.charAt(i);
        if (c > max) {
          throw new CheckpointException(Kind.MALFORMED_PICKLE,
              "_codecs.encode: character U+" + Integer.toHexString(c)
              + " at index " + i + " cannot be encoded as " + PythonTypes.printable(encoding));
        }
        out[i] = (byte) c;
      }
      return PyBytes.wrap(out);
    }
    if (UTF_8.contains(codec)) {
      byte[] out = Utf8.encode(text, false);
      if (out == null) {
        throw new CheckpointException(Kind.MALFORMED_PICKLE,
            "_codecs.encode: a lone surrogate cannot be encoded as "
            + PythonTypes.printable(encoding));
      }
      return PyBytes.wrap(out);
    }
    throw new CheckpointException(Kind.UNSUPPORTED_FORMAT,
        "_codecs.encode: encoding '" + PythonTypes.printable(encoding)
        + "' is not supported (only latin-1, utf-8 and ascii)");
  }

  /**
   * {@code copyreg._reconstructor(cls, object, None)}: protocol 0 and 1's way to write
   * {@code object.__new__(cls)}; other bases would run their {@code __init__} and are refused.
   */
  private static Object reconstructor(PyTuple args) throws CheckpointException {
    checkArity("copyreg._reconstructor", args, 3, 3);
    Object cls = args.get(0);
    if (!(cls instanceof PyCallable)) {
      throw new CheckpointException(Kind.MALFORMED_PICKLE,
          "copyreg._reconstructor needs an allowed class, not "
          + PythonTypes.name(cls));
    }
    if (!OBJECT.equals(args.get(1)) || args.get(2) != null) {
      throw new CheckpointException(Kind.UNSUPPORTED_FORMAT,
          "copyreg._reconstructor is supported only for plain objects"
          + " (base object, state None), not base " + PythonTypes.name(args.get(1)));
    }
    return ((PyCallable) cls).newObject(PyTuple.EMPTY, Map.of());
  }

  private static void checkArity(String what, PyTuple args, int min, int max)
      throws CheckpointException {
    if (args.size() < min || args.size() > max) {
      String range = min == max ? Integer.toString(min) : min + " to " + max;
      throw new CheckpointException(Kind.MALFORMED_PICKLE,
          what + " takes " + range + " arguments, not " + args.size());
    }
  }

  private static void requireHashable(String what, Object value) throws CheckpointException {
    if (!PyTuple.isHashable(value)) {
      throw new CheckpointException(Kind.MALFORMED_PICKLE,
          what + " is unhashable: " + PythonTypes.name(value));
    }
  }
}
