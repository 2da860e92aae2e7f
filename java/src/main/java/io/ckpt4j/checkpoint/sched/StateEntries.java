package io.ckpt4j.checkpoint.sched;

import io.ckpt4j.CheckpointException;
import io.ckpt4j.value.PyValues;
import java.util.List;
import java.util.Map;

/**
 * A scheduler's fields from a loaded state dict, as Python's {@code load_state_dict}
 * ({@code __dict__.update}) sets them: an entry the state dict has replaces the field, read as
 * the field's Python type (an error names it: {@code <where> '<key>' must be ...}); a field it
 * lacks keeps its {@code current} value.
 */
final class StateEntries {
  private StateEntries() {}

  /** One of {@link PyValues}' readers, e.g. {@code PyValues::toDouble}. */
  @FunctionalInterface
  private interface Reader<T> {
    T read(Object value, String where) throws CheckpointException;
  }

  private static <T> T get(Map<String, Object> state, String key, T current, String where,
      Reader<T> reader) throws CheckpointException {
    return state.containsKey(key) ? reader.read(state.get(key), at(where, key)) : current;
  }

  /** A Python float. */
  static double getDouble(Map<String, Object> state, String key, double current, String where)
      throws CheckpointException {
    return get(state, key, current, where, PyValues::toDouble);
  }

  /** A Python int. */
  static long getLong(Map<String, Object> state, String key, long current, String where)
      throws CheckpointException {
    return get(state, key, current, where, PyValues::toLong);
  }

  /** A Python bool. */
  static boolean getBoolean(Map<String, Object> state, String key, boolean current, String where)
      throws CheckpointException {
    return get(state, key, current, where, PyValues::toBoolean);
  }

  /** A Python str. */
  static String getStr(Map<String, Object> state, String key, String current, String where)
      throws CheckpointException {
    return get(state, key, current, where, PyValues::toStr);
  }

  /** A list of Python floats. */
  static List<Double> getDoubles(Map<String, Object> state, String key, List<Double> current,
      String where) throws CheckpointException {
    return get(state, key, current, where, PyValues::toDoubles);
  }

  /** How an error names the entry {@code key}: {@code the StepLR state_dict 'gamma'}. */
  static String at(String where, String key) {
    return where + " '" + key + "'";
  }
}
