package io.ckpt4j.value;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * A Python {@code collections.Counter} to be saved as one (MultiStepLR keeps its
 * {@code milestones} in a Counter): element → count, in first-counted order. It is no
 * {@link Map} on purpose, so that the pickle writer hands it to ckpt4j's hook, which writes
 * {@code collections.Counter({...})} as Python's {@code Counter.__reduce__} does
 * ({@code GLOBAL collections Counter}, the dict, {@code REDUCE}); {@code torch.load} with
 * {@code weights_only=True} accepts it. Reading gives a plain dict back (the reader's value model
 * has no Counter).
 */
public final class PyCounter {
  private final Map<Object, Long> counts;

  private PyCounter(Map<Object, Long> counts) {
    this.counts = Collections.unmodifiableMap(counts);
  }

  /** {@code Counter(elements)}: each element counted, in the order first seen. */
  public static PyCounter of(Iterable<?> elements) {
    LinkedHashMap<Object, Long> counts = new LinkedHashMap<>();
    for (Object e : elements) counts.merge(Objects.requireNonNull(e, "element"), 1L, Long::sum);
    return new PyCounter(counts);
  }

  /** {@code Counter(mapping)}: the counts as given. */
  public static PyCounter ofCounts(Map<?, Long> counts) {
    return new PyCounter(new LinkedHashMap<>(counts));
  }

  /** Element → count (read-only). */
  public Map<Object, Long> counts() {
    return counts;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof PyCounter c && counts.equals(c.counts);
  }

  @Override
  public int hashCode() {
    return counts.hashCode();
  }

  @Override
  public String toString() {
    return "Counter(" + counts + ")";
  }
}
