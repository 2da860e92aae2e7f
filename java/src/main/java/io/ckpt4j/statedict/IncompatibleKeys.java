package io.ckpt4j.statedict;

import java.util.List;

/**
 * What {@link StateDict#loadInto} found that did not match, like Python's
 * {@code _IncompatibleKeys} that {@code model.load_state_dict(sd, strict=False)} returns.
 *
 * <p>{@code missingKeys} are the module's keys the state_dict lacks, in the module's state_dict
 * order; {@code unexpectedKeys} the state_dict's keys the module has no place for, in the order
 * Python reports them (module by module, each in state_dict order); {@code shapeMismatches} keys
 * in both with different shapes (never returned by a successful load: they are errors in both
 * modes, as in Python, and are listed in the exception).
 *
 * @param missingKeys Python's {@code missing_keys}
 * @param unexpectedKeys Python's {@code unexpected_keys}
 * @param shapeMismatches Python's "size mismatch" errors
 */
public record IncompatibleKeys(List<String> missingKeys, List<String> unexpectedKeys,
    List<ShapeMismatch> shapeMismatches) {
  public IncompatibleKeys {
    missingKeys = List.copyOf(missingKeys);
    unexpectedKeys = List.copyOf(unexpectedKeys);
    shapeMismatches = List.copyOf(shapeMismatches);
  }

  /** True when every key matched: Python's {@code <All keys matched successfully>}. */
  public boolean isEmpty() {
    return missingKeys.isEmpty() && unexpectedKeys.isEmpty() && shapeMismatches.isEmpty();
  }

  @Override
  public String toString() {
    if (isEmpty()) return "<All keys matched successfully>";
    return "IncompatibleKeys(missing_keys=" + missingKeys + ", unexpected_keys="
        + unexpectedKeys + (shapeMismatches.isEmpty() ? "" : ", size_mismatch=" + shapeMismatches)
        + ")";
  }
}
