package io.ckpt4j.diff;

import io.ckpt4j.load.LoadOptions;
import java.util.Objects;

/**
 * How {@link CheckpointDiff} compares, in {@code torch.testing.assert_close}'s terms. Immutable;
 * each setter returns a changed copy.
 *
 * <pre>{@code
 * DiffOptions.defaults()
 *     .tolerance(new Tolerance(0, 1e-4))   // assert_close(a, b, rtol=0, atol=1e-4)
 *     .equalNan(true)                      // equal_nan=True
 *     .stripPrefixA("module.")             // A was saved from nn.DataParallel
 * }</pre>
 */
public final class DiffOptions {
  private final Tolerance tolerance;
  private final boolean equalNan;
  private final boolean exact;
  private final String stripPrefixA;
  private final String stripPrefixB;
  private final LoadOptions load;

  private DiffOptions(Tolerance tolerance, boolean equalNan, boolean exact, String stripPrefixA,
      String stripPrefixB, LoadOptions load) {
    this.tolerance = tolerance;
    this.equalNan = equalNan;
    this.exact = exact;
    this.stripPrefixA = stripPrefixA;
    this.stripPrefixB = stripPrefixB;
    this.load = load;
  }

  /** assert_close's defaults: per-dtype tolerances, NaN never equal, keys as saved. */
  public static DiffOptions defaults() {
    return new DiffOptions(null, false, false, null, null, LoadOptions.defaults());
  }

  /** One tolerance for every dtype ({@code rtol=}, {@code atol=}); null: per-dtype defaults. */
  public DiffOptions tolerance(Tolerance tolerance) {
    return new DiffOptions(tolerance, equalNan, exact, stripPrefixA, stripPrefixB, load);
  }

  /** {@code equal_nan}: NaN in both at the same place counts as equal. */
  public DiffOptions equalNan(boolean equalNan) {
    return new DiffOptions(tolerance, equalNan, exact, stripPrefixA, stripPrefixB, load);
  }

  /** Equal only when every tensor's bytes are (a format conversion must be bit-exact). */
  public DiffOptions exact(boolean exact) {
    return new DiffOptions(tolerance, equalNan, exact, stripPrefixA, stripPrefixB, load);
  }

  /** Removes {@code prefix} from each key of A's tree that starts with it ({@code module.}). */
  public DiffOptions stripPrefixA(String prefix) {
    return new DiffOptions(tolerance, equalNan, exact, prefix, stripPrefixB, load);
  }

  /** Removes {@code prefix} from each key of B's tree that starts with it. */
  public DiffOptions stripPrefixB(String prefix) {
    return new DiffOptions(tolerance, equalNan, exact, stripPrefixA, prefix, load);
  }

  /** How both files are opened (their globals options; they are always mapped, on the CPU). */
  public DiffOptions load(LoadOptions load) {
    return new DiffOptions(tolerance, equalNan, exact, stripPrefixA, stripPrefixB,
        Objects.requireNonNull(load, "load"));
  }

  /** The tolerance for tensors of {@code dtype}. */
  public Tolerance toleranceFor(io.ckpt4j.value.DType dtype) {
    return tolerance != null ? tolerance : Tolerance.defaultFor(dtype);
  }

  public boolean equalNan() {
    return equalNan;
  }

  public boolean exact() {
    return exact;
  }

  public String stripPrefixA() {
    return stripPrefixA;
  }

  public String stripPrefixB() {
    return stripPrefixB;
  }

  public LoadOptions load() {
    return load;
  }
}
