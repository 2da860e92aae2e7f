package io.ckpt4j.diff;

import io.ckpt4j.diff.TensorDiff.Status;
import io.ckpt4j.value.DType;
import io.ckpt4j.value.TensorRef;
import java.util.Arrays;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * Compares two CPU tensors as {@code torch.testing.assert_close(a, b)} does — dtype and shape
 * first, then {@code torch.isclose} element by element — and measures their differences, a slice
 * of at most {@link #CHUNK_ELEMENTS} elements at a time, so that two mapped 10 GB tensors compare
 * in bounded memory (the temporaries of one slice are freed before the next).
 */
final class TensorComparison {
  /** Elements per slice: 32 MiB for each float64 temporary. */
  static final long CHUNK_ELEMENTS = 1L << 22;

  private final DiffOptions options;
  private long mismatched;
  private double maxAbs;
  private double maxRel;
  private double sumSquares;
  private long finite;
  private boolean equal = true;

  private TensorComparison(DiffOptions options) {
    this.options = options;
  }

  static TensorDiff compare(String key, TensorRef refA, Tensor a, TensorRef refB, Tensor b,
      DiffOptions options) {
    DType dtype = refA.dtype();
    Tolerance tolerance = options.exact() ? Tolerance.EXACT : options.toleranceFor(dtype);
    if (refA.dtype() != refB.dtype() || !Arrays.equals(refA.shape(), refB.shape())) {
      Status status = refA.dtype() != refB.dtype() ? Status.DTYPE_CHANGED : Status.SHAPE_CHANGED;
      return new TensorDiff(key, refA.dtype(), refB.dtype(), refA.shape(), refB.shape(), status,
          0, 0, 0, 0, 0, tolerance);
    }
    TensorComparison c = new TensorComparison(options);
    c.run(a, b, dtype, tolerance);
    Status status;
    if (c.mismatched > 0) {
      status = Status.DIFFERENT;
    } else {
      status = c.equal ? Status.EQUAL : Status.CLOSE;
    }
    double rms = c.finite == 0 ? 0 : Math.sqrt(c.sumSquares / c.finite);
    return new TensorDiff(key, dtype, dtype, refA.shape(), refB.shape(), status, refA.numel(),
        c.mismatched, c.maxAbs, c.maxRel, rms, tolerance);
  }

  private void run(Tensor a, Tensor b, DType dtype, Tolerance tolerance) {
    boolean bitwise = options.exact() || isOneByteFloat(dtype);
    boolean complex = dtype == DType.COMPLEX64 || dtype == DType.COMPLEX128;
    ScalarType wide = complex ? ScalarType.ComplexDouble : ScalarType.Double;
    try (PointerScope scope = new PointerScope()) {
      Tensor flatA = a.reshape(-1);
      Tensor flatB = b.reshape(-1);
      long n = flatA.numel();
      for (long start = 0; start < n; start += CHUNK_ELEMENTS) {
        try (PointerScope slice = new PointerScope()) {
          long length = Math.min(CHUNK_ELEMENTS, n - start);
          Tensor ca = flatA.narrow(0, start, length);
          Tensor cb = flatB.narrow(0, start, length);
          if (bitwise) {
            long differing = differingElements(ca, cb, dtype);
            mismatched += differing;
            equal &= differing == 0;
          } else {
            mismatched += torch.isclose(ca, cb, tolerance.rtol(), tolerance.atol(),
                options.equalNan()).logical_not().sum().item_long();
            equal &= ca.equal(cb);
          }
          if (!isOneByteFloat(dtype)) measure(ca.to(wide), cb.to(wide));
        }
      }
    }
  }

  /** Elements whose bytes differ (the exact comparison; 1-byte floats are compared so too). */
  private static long differingElements(Tensor a, Tensor b, DType dtype) {
    int size = dtype.itemSize();
    Tensor bytesA = a.contiguous().view(ScalarType.Byte).reshape(-1, size);
    Tensor bytesB = b.contiguous().view(ScalarType.Byte).reshape(-1, size);
    return bytesA.ne(bytesB).any(1).sum().item_long();
  }

  /** Max |a - b|, max |a - b| / |b| and the sum of squares, over differences that are not NaN. */
  private void measure(Tensor a, Tensor b) {
    Tensor diff = torch.sub(a, b).abs();
    Tensor kept = diff.masked_select(diff.isnan().logical_not());
    if (kept.numel() > 0) {
      maxAbs = Math.max(maxAbs, kept.max().item_double());
      sumSquares += kept.square().sum().item_double();
      finite += kept.numel();
    }
    Tensor rel = diff.div(b.abs());
    Tensor relKept = rel.masked_select(rel.isnan().logical_not());
    if (relKept.numel() > 0) maxRel = Math.max(maxRel, relKept.max().item_double());
  }

  private static boolean isOneByteFloat(DType dtype) {
    return dtype == DType.FLOAT8_E4M3FN || dtype == DType.FLOAT8_E5M2;
  }
}
