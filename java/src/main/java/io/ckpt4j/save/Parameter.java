package io.ckpt4j.save;

import java.util.Objects;
import org.bytedeco.pytorch.Tensor;

/**
 * A tensor to be saved as a Python {@code torch.nn.Parameter}, with its own {@code requires_grad}
 * (through {@code torch._utils._rebuild_parameter}, as {@code torch.save} writes a module's
 * parameters). The plain tensor inside is saved with {@code requires_grad=False}, as Python's
 * {@code parameter.data} is.
 *
 * <p>Identity matters as it does in Python: one {@code Parameter} object placed under two keys
 * comes back as one Parameter object (tied weights); two {@code Parameter} objects over the same
 * tensor come back as two Parameters sharing one storage. The caller keeps owning the tensor.
 */
public final class Parameter {
  private final Tensor data;
  private final boolean requiresGrad;

  /** {@code nn.Parameter(data, requires_grad=requiresGrad)}. */
  public Parameter(Tensor data, boolean requiresGrad) {
    this.data = Objects.requireNonNull(data, "data");
    this.requiresGrad = requiresGrad;
  }

  /** {@code nn.Parameter(data)}: {@code requires_grad=True}, Python's default. */
  public static Parameter of(Tensor data) {
    return new Parameter(data, true);
  }

  public Tensor data() {
    return data;
  }

  public boolean requiresGrad() {
    return requiresGrad;
  }

  @Override
  public String toString() {
    return "Parameter[requires_grad=" + requiresGrad + "]";
  }
}
