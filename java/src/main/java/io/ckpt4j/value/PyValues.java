package io.ckpt4j.value;

import io.ckpt4j.CheckpointException;
import io.ckpt4j.CheckpointException.Kind;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Reading Python values of a loaded checkpoint (the unpickler's value model: {@code Long},
 * {@code BigInteger}, {@code Double}, {@code Boolean}, {@code String}, lists, {@link PyTuple}s,
 * dicts) as the Java numbers a training state needs, with one-line errors that name the entry.
 *
 * <p>Python's numeric tower is followed: a bool is an int, an int is accepted where a float is
 * expected (Python's {@code 0} default for {@code weight_decay} is an int); a float is never
 * accepted where an int is.
 */
public final class PyValues {
  private PyValues() {}

  /** A Python float (or int, or bool) as a double; {@code where} names the entry for errors. */
  public static double toDouble(Object value, String where) throws CheckpointException {
    if (value instanceof Double d) return d;
    if (value instanceof Long l) return l;
    if (value instanceof Boolean b) return b ? 1 : 0;
    if (value instanceof BigInteger big) return big.doubleValue();
    throw new CheckpointException(Kind.INVALID_VALUE,
        where + " must be a number, not " + PythonTypes.name(value));
  }

  /** A Python int (or bool) that fits a long. */
  public static long toLong(Object value, String where) throws CheckpointException {
    if (value instanceof Long l) return l;
    if (value instanceof Boolean b) return b ? 1 : 0;
    if (value instanceof BigInteger big) {
      if (big.bitLength() < Long.SIZE) return big.longValue();
      throw new CheckpointException(Kind.INVALID_VALUE,
          where + " is " + big + ", out of the range of a 64-bit int");
    }
    throw new CheckpointException(Kind.INVALID_VALUE,
        where + " must be an int, not " + PythonTypes.name(value));
  }

  /** A Python int that fits an int (a count, a step size). */
  public static int toInt(Object value, String where) throws CheckpointException {
    long v = toLong(value, where);
    if (v < Integer.MIN_VALUE || v > Integer.MAX_VALUE) {
      throw new CheckpointException(Kind.INVALID_VALUE,
          where + " is " + v + ", out of the range of a 32-bit int");
    }
    return (int) v;
  }

  /** A Python bool (an int 0 or 1 passes too, as Python's truth test would). */
  public static boolean toBoolean(Object value, String where) throws CheckpointException {
    if (value instanceof Boolean b) return b;
    if (value instanceof Long l && (l == 0 || l == 1)) return l == 1;
    throw new CheckpointException(Kind.INVALID_VALUE,
        where + " must be a bool, not " + PythonTypes.name(value));
  }

  /** A Python str. */
  public static String toStr(Object value, String where) throws CheckpointException {
    if (value instanceof String s) return s;
    throw new CheckpointException(Kind.INVALID_VALUE,
        where + " must be a str, not " + PythonTypes.name(value));
  }

  /** A list or tuple. */
  public static List<?> toList(Object value, String where) throws CheckpointException {
    if (value instanceof List<?> l) return l;
    throw new CheckpointException(Kind.INVALID_VALUE,
        where + " must be a list, not " + PythonTypes.name(value));
  }

  /** A dict. */
  public static Map<?, ?> toMap(Object value, String where) throws CheckpointException {
    if (value instanceof Map<?, ?> m) return m;
    throw new CheckpointException(Kind.INVALID_VALUE,
        where + " must be a dict, not " + PythonTypes.name(value));
  }

  /** A list or tuple of numbers, as doubles. */
  public static List<Double> toDoubles(Object value, String where) throws CheckpointException {
    List<?> list = toList(value, where);
    List<Double> out = new ArrayList<>(list.size());
    for (int i = 0; i < list.size(); i++) out.add(toDouble(list.get(i), where + "[" + i + "]"));
    return out;
  }

  /** A list or tuple of ints. */
  public static List<Long> toLongs(Object value, String where) throws CheckpointException {
    List<?> list = toList(value, where);
    List<Long> out = new ArrayList<>(list.size());
    for (int i = 0; i < list.size(); i++) out.add(toLong(list.get(i), where + "[" + i + "]"));
    return out;
  }

  /** {@code value} from {@code map[key]}, failing when the key is absent. */
  public static Object require(Map<?, ?> map, String key, String where) throws CheckpointException {
    if (!map.containsKey(key)) {
      throw new CheckpointException(Kind.INVALID_VALUE, where + " has no '" + key + "' entry");
    }
    return map.get(key);
  }
}
