package io.ckpt4j.statedict;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;

/** The wrapper prefixes Python leaves on state_dict keys ({@code module.}, {@code _orig_mod.}). */
final class Prefixes {
  private Prefixes() {}

  /**
   * The prefixes every key carries, outermost first: repeatedly, the first of
   * {@link StateDict#WRAPPER_PREFIXES} that starts every remaining key, stripped.
   */
  static List<String> detect(Collection<String> keys) {
    List<String> found = new ArrayList<>();
    List<String> rest = new ArrayList<>(keys);
    while (!rest.isEmpty()) {
      String prefix = commonWrapper(rest);
      if (prefix == null) break;
      found.add(prefix);
      rest.replaceAll(k -> k.substring(prefix.length()));
    }
    return found;
  }

  /** True when {@code keys} is not empty and each key starts with {@code prefix}. */
  static boolean allStartWith(Collection<String> keys, String prefix) {
    if (keys.isEmpty()) return false;
    for (String k : keys) {
      if (!k.startsWith(prefix)) return false;
    }
    return true;
  }

  /** True when no key starts with {@code prefix}. */
  static boolean noneStartWith(Collection<String> keys, String prefix) {
    for (String k : keys) {
      if (k.startsWith(prefix)) return false;
    }
    return true;
  }

  private static String commonWrapper(List<String> keys) {
    for (String prefix : StateDict.WRAPPER_PREFIXES) {
      if (allStartWith(keys, prefix)) return prefix;
    }
    return null;
  }
}
