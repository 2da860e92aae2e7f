package io.ckpt4j.diff;

import io.ckpt4j.diff.TensorDiff.Status;
import io.ckpt4j.value.DType;
import io.ckpt4j.value.TensorRef;
import java.util.Arrays;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.DoubleOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * Compares two CPU tensors as {@code torch.testing.assert_close(a, b)} does — dtype and shape
 * first, then {@code torch.isclose} element by element — and measures their differences, a slice
 * of at most {@link #CHUNK_ELEMENTS} elements at a time, so that two mapped 10 GB tensors compare
 * in bounded memory (the temporaries of one slice are freed before the next).
 */
final class TensorComparison {
  /**
   * Elements per slice: 8 MiB for each float64 temporary, so that a slice's dozen passes find
   * most of it in the CPU cache while the per-operation cost stays small.
   */
  static final long CHUNK_ELEMENTS = 1L << 20;

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
      DiffOptions options, Workspace workspace) {
    DType dtype = refA.dtype();
    Tolerance tolerance = options.exact() ? Tolerance.EXACT : options.toleranceFor(dtype);
    if (refA.dtype() != refB.dtype() || !Arrays.equals(refA.shape(), refB.shape())) {
      Status status = refA.dtype() != refB.dtype() ? Status.DTYPE_CHANGED : Status.SHAPE_CHANGED;
      return new TensorDiff(key, refA.dtype(), refB.dtype(), refA.shape(), refB.shape(), status,
          0, 0, 0, 0, 0, tolerance);
    }
    TensorComparison c = new TensorComparison(options);
    c.run(a, b, dtype, tolerance, workspace);
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

  private void run(Tensor a, Tensor b, DType dtype, Tolerance tolerance, Workspace workspace) {
    boolean bitwise = options.exact() || isOneByteFloat(dtype);
    boolean complex = dtype == DType.COMPLEX64 || dtype == DType.COMPLEX128;
    try (PointerScope scope = new PointerScope()) {
      Tensor flatA = a.reshape(-1);
      Tensor flatB = b.reshape(-1);
      long n = flatA.numel();
      Scratch scratch; // a complex tensor's buffers are its own, freed with this scope
      if (isOneByteFloat(dtype) || n == 0) {
        scratch = null;
      } else {
        scratch = complex ? new Scratch(Math.min(n, CHUNK_ELEMENTS), true) : workspace.real;
      }
      for (long start = 0; start < n; start += CHUNK_ELEMENTS) {
        try (PointerScope slice = new PointerScope()) {
          long length = Math.min(CHUNK_ELEMENTS, n - start);
          Tensor ca = flatA.narrow(0, start, length);
          Tensor cb = flatB.narrow(0, start, length);
          if (bitwise) {
            long differing = differingElements(ca, cb, dtype);
            mismatched += differing;
            equal &= differing == 0;
            if (differing == 0) continue; // equal bytes: every difference is 0 (or a NaN's)
          } else {
            long notClose = torch.isclose(ca, cb, tolerance.rtol(), tolerance.atol(),
                options.equalNan()).logical_not().sum().item_long();
            mismatched += notClose;
            equal &= notClose == 0;
          }
          if (scratch != null) {
            double largest = measure(ca, cb, scratch.slice(length));
            // torch.equal, spared a pass where the differences answer it (-0.0 == 0.0 in both);
            // a NaN difference comes from a NaN or from inf - inf: only torch.equal can tell.
            if (!bitwise && equal) equal = Double.isNaN(largest) ? ca.equal(cb) : largest == 0;
          } else if (!bitwise && equal) {
            equal = ca.equal(cb);
          }
        }
      }
    }
  }

  /** Elements whose bytes differ (the exact comparison; 1-byte floats are compared so too). */
  private static long differingElements(Tensor a, Tensor b, DType dtype) {
    int size = dtype.itemSize();
    Tensor bytesA = a.contiguous().view(ScalarType.Byte).reshape(-1, size);
    Tensor bytesB = b.contiguous().view(ScalarType.Byte).reshape(-1, size);
    if (bytesA.equal(bytesB)) return 0; // the common case of a conversion, at memcmp's speed
    return bytesA.ne(bytesB).any(1).sum().item_long();
  }

  /**
   * Max |a - b|, max |a - b| / |b| and the sum of squares, over differences that are not NaN,
   * computed in float64 (complex128 for the difference of complex tensors) in {@code scratch}:
   * the slice's own bytes (perhaps a read-only mapping) are only read. A NaN difference is set to
   * 0 once counted out; a relative difference of NaN (0 / 0) is 0 too, which leaves the maximum
   * of non-negative values as it is. Returns the largest difference, NaN if any is NaN.
   */
  private double measure(Tensor a, Tensor b, Scratch scratch) {
    Tensor diff = scratch.difference(a, b);
    double max = diff.amax().item_double();
    double largest = max;
    long kept = diff.numel();
    if (Double.isNaN(max)) { // rare: only then pay for counting and clearing the NaNs
      kept -= diff.isnan().sum().item_long();
      if (kept == 0) return largest;
      zeroNans(diff);
      max = diff.amax().item_double();
    }
    maxAbs = Math.max(maxAbs, max);
    Tensor rel = scratch.relative(diff, b);
    zeroNans(rel);
    maxRel = Math.max(maxRel, rel.amax().item_double());
    sumSquares += diff.mul_(diff).sum().item_double();
    finite += kept;
    return largest;
  }

  /**
   * The float64 buffers that a diff's real-valued comparisons share, one slice long, allocated
   * once per diff: fresh multi-megabyte temporaries per tensor (or per slice) cost more in page
   * faults than the arithmetic does — a resnet152-shaped diff spent most of its time so. Owned
   * and closed by the diff that made it; closing twice is harmless.
   */
  static final class Workspace implements AutoCloseable {
    private final Scratch real = new Scratch(CHUNK_ELEMENTS, false);

    @Override
    public void close() {
      real.close();
    }
  }

  /** The float64 temporaries of a comparison: |a - b|, |b|, and the inputs widened. */
  private static final class Scratch {
    private final Tensor wideA;
    private final Tensor wideB;
    private final Tensor delta;
    private final Tensor diff;
    private final Tensor rel;
    private final boolean complex;

    Scratch(long elements, boolean complex) {
      this.complex = complex;
      ScalarType wide = complex ? ScalarType.ComplexDouble : ScalarType.Double;
      wideA = empty(elements, wide);
      wideB = empty(elements, wide);
      delta = complex ? empty(elements, wide) : null;
      diff = empty(elements, ScalarType.Double);
      rel = empty(elements, ScalarType.Double);
    }

    /** The first {@code length} elements of each buffer (the last slice may be shorter). */
    Scratch slice(long length) {
      return new Scratch(this, length);
    }

    private Scratch(Scratch whole, long length) {
      complex = whole.complex;
      wideA = whole.wideA.narrow(0, 0, length);
      wideB = whole.wideB.narrow(0, 0, length);
      delta = complex ? whole.delta.narrow(0, 0, length) : null;
      diff = whole.diff.narrow(0, 0, length);
      rel = whole.rel.narrow(0, 0, length);
    }

    /** |a - b|, in {@code diff}. */
    Tensor difference(Tensor a, Tensor b) {
      wideA.copy_(a);
      wideB.copy_(b);
      if (complex) {
        torch.sub_out(delta, wideA, wideB);
        torch.abs_out(diff, delta);
      } else {
        torch.sub_out(diff, wideA, wideB).abs_();
      }
      return diff;
    }

    /** diff / |b|, in {@code rel}. */
    Tensor relative(Tensor diff, Tensor b) {
      torch.abs_out(rel, wideB);
      return torch.div_out(rel, diff, rel);
    }

    void close() {
      for (Tensor t : new Tensor[] {wideA, wideB, delta, diff, rel}) {
        if (t != null) t.close();
      }
    }

    private static Tensor empty(long elements, ScalarType type) {
      try (TensorOptions options = new TensorOptions(type)) {
        return torch.empty(new long[] {elements}, options, null);
      }
    }
  }

  /** NaN to 0 in place, infinities kept (nan_to_num's defaults would clamp them). */
  private static void zeroNans(Tensor t) {
    try (DoubleOptional zero = new DoubleOptional(0);
        DoubleOptional posInf = new DoubleOptional(Double.POSITIVE_INFINITY);
        DoubleOptional negInf = new DoubleOptional(Double.NEGATIVE_INFINITY)) {
      t.nan_to_num_(zero, posInf, negInf);
    }
  }

  private static boolean isOneByteFloat(DType dtype) {
    return dtype == DType.FLOAT8_E4M3FN || dtype == DType.FLOAT8_E5M2;
  }
}
