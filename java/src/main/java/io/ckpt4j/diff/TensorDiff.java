package io.ckpt4j.diff;

import io.ckpt4j.value.DType;

/**
 * One tensor present in both checkpoints, compared. The differences are over the elements whose
 * difference is not NaN (computed in float64, complex128 for complex tensors); they are zero when
 * the dtypes or shapes differ, which is a verdict of its own.
 *
 * @param key the leaf's path (see {@link io.ckpt4j.value.TreeWalker#pathName})
 * @param dtypeA A's dtype
 * @param dtypeB B's dtype
 * @param shapeA A's shape
 * @param shapeB B's shape
 * @param status the verdict
 * @param numel elements compared (0 when shapes or dtypes differ)
 * @param mismatched elements torch.isclose calls not close with {@code tolerance}
 * @param maxAbs the greatest |a - b|
 * @param maxRel the greatest |a - b| / |b|
 * @param rms the root of the mean of (a - b)²
 * @param tolerance the tolerance the tensor was compared with
 */
public record TensorDiff(String key, DType dtypeA, DType dtypeB, long[] shapeA, long[] shapeB,
    Status status, long numel, long mismatched, double maxAbs, double maxRel, double rms,
    Tolerance tolerance) {

  /** What the comparison found. */
  public enum Status {
    /** The same values (torch.equal), or with exact comparison the same bytes. */
    EQUAL,
    /** Not equal, but every element within the tolerance: assert_close passes. */
    CLOSE,
    /** Some element outside the tolerance (or, exact, some byte differs). */
    DIFFERENT,
    /** The dtypes differ (assert_close fails before comparing values). */
    DTYPE_CHANGED,
    /** The shapes differ. */
    SHAPE_CHANGED;

    /** Whether assert_close passes. */
    public boolean passes() {
      return this == EQUAL || this == CLOSE;
    }

    /** The lower-case name the CLI and JSON print. */
    public String jsonName() {
      return name().toLowerCase(java.util.Locale.ROOT);
    }
  }
}
