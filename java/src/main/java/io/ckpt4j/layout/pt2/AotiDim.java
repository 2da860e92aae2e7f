package io.ckpt4j.layout.pt2;

/**
 * One dimension of an AOTInductor model's input, as its compiled code checks it: a static size,
 * or a dynamic one ({@code torch.export.Dim}) with the bounds Inductor compiled for.
 *
 * @param size the static size, or null for a dynamic dimension
 * @param min a dynamic dimension's smallest size (its static size otherwise)
 * @param max a dynamic dimension's largest size, null when unbounded (its static size otherwise)
 */
public record AotiDim(Long size, long min, Long max) {
  /** A static dimension of {@code size}. */
  public static AotiDim fixed(long size) {
    return new AotiDim(size, size, size);
  }

  /** Whether a tensor may have {@code actual} elements along this dimension. */
  public boolean accepts(long actual) {
    return actual >= min && (max == null || actual <= max);
  }

  /** Whether this dimension is dynamic. */
  public boolean isDynamic() {
    return size == null;
  }

  /** {@code 3}, or {@code [2, 8]} for a dynamic dimension ({@code [2, inf]} unbounded). */
  @Override
  public String toString() {
    return size != null ? Long.toString(size) : "[" + min + ", " + (max == null ? "inf" : max)
        + "]";
  }
}
