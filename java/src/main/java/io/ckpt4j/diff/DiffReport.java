package io.ckpt4j.diff;

import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;

/**
 * What {@link CheckpointDiff#compare} found between checkpoint A and checkpoint B (B is the
 * expected side of {@code assert_close(actual=A, expected=B)}). Immutable.
 *
 * @param a the first checkpoint
 * @param b the second checkpoint
 * @param tensors every tensor both hold, in A's order
 * @param onlyInA keys only A holds
 * @param onlyInB keys only B holds
 * @param aliases keys one side holds as a second name of a tensor both hold (tied weights that
 *     one format keeps twice and the other once): not missing
 * @param values non-tensor leaves that differ (or are a tensor on one side only)
 */
public record DiffReport(Path a, Path b, List<TensorDiff> tensors, List<String> onlyInA,
    List<String> onlyInB, List<String> aliases, List<ValueDiff> values) {

  public DiffReport {
    tensors = List.copyOf(tensors);
    onlyInA = List.copyOf(onlyInA);
    onlyInB = List.copyOf(onlyInB);
    aliases = List.copyOf(aliases);
    values = List.copyOf(values);
  }

  /** A leaf that is not a tensor on both sides, and differs. */
  public record ValueDiff(String key, String a, String b) {}

  /** Equal within tolerance: no key missing on either side, every value and tensor passes. */
  public boolean equal() {
    return onlyInA.isEmpty() && onlyInB.isEmpty() && values.isEmpty()
        && tensors.stream().allMatch(t -> t.status().passes());
  }

  /** Tensors that fail, then those that pass, each by largest difference first. */
  public List<TensorDiff> largestFirst() {
    return tensors.stream().sorted(Comparator
        .comparing((TensorDiff t) -> t.status().passes())
        .thenComparing(TensorDiff::maxAbs, Comparator.reverseOrder())).toList();
  }

  /** How many tensors have {@code status}. */
  public long count(TensorDiff.Status status) {
    return tensors.stream().filter(t -> t.status() == status).count();
  }
}
