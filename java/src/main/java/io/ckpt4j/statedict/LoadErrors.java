package io.ckpt4j.statedict;

import io.ckpt4j.value.PythonTypes;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The one-line message of a failed {@link StateDict#loadInto}: every problem, lists cut short.
 * {@link #list} formats a key list the same way for other loaders of state_dicts.
 */
public final class LoadErrors {
  /** Keys each list names before it says how many more there are. */
  static final int KEYS_SHOWN = 5;

  private LoadErrors() {}

  static String message(String moduleType, IncompatibleKeys keys, boolean strict) {
    List<String> parts = new ArrayList<>();
    if (strict && !keys.missingKeys().isEmpty()) {
      parts.add("missing_keys " + list(keys.missingKeys()));
    }
    if (strict && !keys.unexpectedKeys().isEmpty()) {
      parts.add("unexpected_keys " + list(keys.unexpectedKeys()));
    }
    if (!keys.shapeMismatches().isEmpty()) {
      List<String> sizes = new ArrayList<>();
      for (ShapeMismatch m : keys.shapeMismatches()) {
        sizes.add(quote(m.key()) + " " + Arrays.toString(m.found()) + " in checkpoint, "
            + Arrays.toString(m.expected()) + " in module");
      }
      parts.add("size mismatch " + joined(sizes));
    }
    return "state_dict does not fit " + PythonTypes.printable(moduleType) + ": "
        + String.join("; ", parts) + ". " + hint(keys, strict);
  }

  /** {@code (N): "a", "b", ... K more}: keys quoted, at most {@link #KEYS_SHOWN} of them. */
  public static String list(List<String> keys) {
    List<String> quotedKeys = new ArrayList<>();
    for (String key : keys) quotedKeys.add(quote(key));
    return joined(quotedKeys);
  }

  private static String quote(String key) {
    return '"' + PythonTypes.printable(key) + '"';
  }

  /** {@code (N): a, b, c, ... K more}. */
  private static String joined(List<String> items) {
    StringBuilder sb = new StringBuilder("(" + items.size() + "): ");
    for (int i = 0; i < Math.min(items.size(), KEYS_SHOWN); i++) {
      if (i > 0) sb.append(", ");
      sb.append(items.get(i));
    }
    if (items.size() > KEYS_SHOWN) {
      sb.append(", ... ").append(items.size() - KEYS_SHOWN).append(" more");
    }
    return sb.toString();
  }

  private static String hint(IncompatibleKeys keys, boolean strict) {
    for (String prefix : StateDict.WRAPPER_PREFIXES) {
      if (Prefixes.allStartWith(keys.unexpectedKeys(), prefix)
          && Prefixes.noneStartWith(keys.missingKeys(), prefix)) {
        return "The state_dict's keys start with '" + prefix + "' (saved from a wrapper): strip"
            + " it with StateDict.stripPrefix(\"" + prefix + "\") or"
            + " LoadStateDictOptions.fixModulePrefix(true), or load into the same wrapper";
      }
      if (Prefixes.allStartWith(keys.missingKeys(), prefix)
          && Prefixes.noneStartWith(keys.unexpectedKeys(), prefix)) {
        return "The module's keys start with '" + prefix + "' and the state_dict's do not: load"
            + " into the wrapped module, or use LoadStateDictOptions.fixModulePrefix(true)";
      }
    }
    if (!keys.shapeMismatches().isEmpty()) {
      return "Build the module with the shapes the checkpoint was saved with, or leave those"
          + " keys out (StateDict.filter) and load with strict(false)";
    }
    return strict ? "Check that the module is the architecture the checkpoint was saved from,"
        + " or load the keys that match with LoadStateDictOptions.strict(false)" : "";
  }
}
