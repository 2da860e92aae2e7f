package io.ckpt4j.statedict;

import java.util.Arrays;

/**
 * A key present in both the state_dict and the module whose shapes differ: Python's
 * "size mismatch for {key}: copying a param with shape {found} from checkpoint, the shape in
 * current model is {expected}".
 *
 * @param key the state_dict key
 * @param expected the shape of the module's parameter or buffer
 * @param found the shape of the state_dict's tensor
 */
public record ShapeMismatch(String key, long[] expected, long[] found) {
  public ShapeMismatch {
    expected = expected.clone();
    found = found.clone();
  }

  @Override
  public long[] expected() {
    return expected.clone();
  }

  @Override
  public long[] found() {
    return found.clone();
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof ShapeMismatch m && key.equals(m.key)
        && Arrays.equals(expected, m.expected) && Arrays.equals(found, m.found);
  }

  @Override
  public int hashCode() {
    return 31 * (31 * key.hashCode() + Arrays.hashCode(expected)) + Arrays.hashCode(found);
  }

  /** {@code key: [3, 4] in checkpoint, [3, 5] in module}. */
  @Override
  public String toString() {
    return key + ": " + Arrays.toString(found) + " in checkpoint, " + Arrays.toString(expected)
        + " in module";
  }
}
