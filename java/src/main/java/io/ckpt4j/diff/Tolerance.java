package io.ckpt4j.diff;

import io.ckpt4j.value.DType;

/**
 * {@code torch.testing.assert_close}'s tolerances: two elements are close when {@code |a - b| <=
 * atol + rtol * |b|} (torch.isclose, B being the expected side).
 *
 * @param rtol relative tolerance
 * @param atol absolute tolerance
 */
public record Tolerance(double rtol, double atol) {
  /** Exact: what assert_close uses for integers, bool and 1-byte floats. */
  public static final Tolerance EXACT = new Tolerance(0, 0);

  public Tolerance {
    if (!(rtol >= 0) || !(atol >= 0)) {
      throw new IllegalArgumentException("tolerances must be >= 0, not rtol=" + rtol + ", atol="
          + atol);
    }
  }

  /**
   * assert_close's default for {@code dtype} ({@code torch.testing._comparison._DTYPE_PRECISIONS};
   * every dtype it does not list compares exactly).
   */
  public static Tolerance defaultFor(DType dtype) {
    return switch (dtype) {
      case FLOAT16 -> new Tolerance(1e-3, 1e-5);
      case BFLOAT16 -> new Tolerance(1.6e-2, 1e-5);
      case FLOAT32, COMPLEX64 -> new Tolerance(1.3e-6, 1e-5);
      case FLOAT64, COMPLEX128 -> new Tolerance(1e-7, 1e-7);
      default -> EXACT;
    };
  }
}
