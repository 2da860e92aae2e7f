package io.ckpt4j.checkpoint.optim;

import org.bytedeco.pytorch.LongArrayRef;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;

/** Small LibTorch helpers the optimizers share. */
final class OptimMath {
  private OptimMath() {}

  /**
   * Python's {@code torch.tensor(value, dtype=torch.float32)} on the CPU: the {@code step} the
   * single-tensor optimizers keep ({@code _get_scalar_dtype()} is float32 by default).
   */
  static Tensor stepTensor(double value) {
    try (TensorOptions options = new TensorOptions(torch.ScalarType.Float);
        Scalar s = new Scalar(value)) {
      return torch.scalar_tensor(s, options);
    }
  }

  /** Python's {@code _get_value(step_t)}: the step as a Python float. */
  static double stepValue(Tensor step) {
    return step.item_double();
  }

  /** The tensor's sizes. */
  static long[] shape(Tensor t) {
    try (LongArrayRef sizes = t.sizes()) {
      long[] out = new long[(int) sizes.size()];
      for (int i = 0; i < out.length; i++) out[i] = sizes.get(i);
      return out;
    }
  }

  /** A Scalar for an op's alpha / value (freed by the step's pointer scope). */
  static Scalar s(double value) {
    return new Scalar(value);
  }
}
