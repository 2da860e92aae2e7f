package io.ckpt4j.layout.pt2;

import java.util.Arrays;

/**
 * One constant of an AOTInductor model (a parameter, buffer or folded value it computes with).
 *
 * @param name the model's name for it ({@code conv_weight})
 * @param fqn the original module's state_dict name ({@code conv.weight}); folded constants have
 *     their own name here
 * @param dtype torch's dtype name ({@code float32})
 * @param shape its sizes
 * @param type {@code Parameter}, {@code Buffer}, {@code TensorConstant} or {@code FoldedConstant}
 * @param fromFolded whether Inductor computes it from other constants (runtime constant folding)
 */
public record AotiConstant(String name, String fqn, String dtype, long[] shape, String type,
    boolean fromFolded) {
  public AotiConstant {
    shape = shape.clone();
  }

  @Override
  public long[] shape() {
    return shape.clone();
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof AotiConstant c && name.equals(c.name) && fqn.equals(c.fqn)
        && dtype.equals(c.dtype) && Arrays.equals(shape, c.shape) && type.equals(c.type)
        && fromFolded == c.fromFolded;
  }

  @Override
  public int hashCode() {
    return name.hashCode() * 31 + fqn.hashCode();
  }

  @Override
  public String toString() {
    return fqn + ": " + dtype + Arrays.toString(shape) + (fromFolded ? " (folded)" : "");
  }
}
