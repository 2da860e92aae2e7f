package io.ckpt4j.models;

import org.bytedeco.javacpp.LongPointer;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.BatchNorm2dImpl;
import org.bytedeco.pytorch.BatchNormOptions;
import org.bytedeco.pytorch.Conv2dImpl;
import org.bytedeco.pytorch.Conv2dOptions;
import org.bytedeco.pytorch.GeneratorOptional;
import org.bytedeco.pytorch.LinearImpl;
import org.bytedeco.pytorch.Module;
import org.bytedeco.pytorch.NoGradGuard;

/**
 * The LibTorch layers torchvision's ResNet is made of, configured as torchvision configures them
 * ({@code conv3x3}, {@code conv1x1}, the 7x7 stem, {@code nn.BatchNorm2d}, {@code nn.Linear}).
 *
 * <p>Each method returns a module the caller owns: one reference, attached to no
 * {@link PointerScope} (the option objects made on the way are freed before it returns).
 * BatchNorm keeps LibTorch's defaults, which are Python's: eps 1e-5, momentum 0.1, affine,
 * running statistics tracked, weight 1 and bias 0. Linear keeps LibTorch's initialisation, which
 * is {@code nn.Linear}'s.
 */
final class Layers {
  /** A square kernel, stride or padding: LibTorch's {@code ExpandingArray<2>} has two values. */
  private static final int SPATIAL_DIMS = 2;
  /**
   * The gain of torchvision's conv initialisation,
   * {@code kaiming_normal_(mode="fan_out", nonlinearity="relu")}: std = gain / sqrt(fan_out).
   */
  private static final double RELU_GAIN = Math.sqrt(2.0);
  private static final long KERNEL_3X3 = 3;
  private static final long KERNEL_1X1 = 1;
  private static final long PADDING_3X3 = 1;
  private static final long NO_PADDING = 0;

  private Layers() {}

  /** torchvision's {@code conv3x3}: 3x3, padding 1, no bias. */
  static Conv2dImpl conv3x3(long in, long out, long stride) {
    return conv(in, out, KERNEL_3X3, stride, PADDING_3X3);
  }

  /** torchvision's {@code conv1x1}: 1x1, no padding, no bias. */
  static Conv2dImpl conv1x1(long in, long out, long stride) {
    return conv(in, out, KERNEL_1X1, stride, NO_PADDING);
  }

  /**
   * A square {@code nn.Conv2d(in, out, kernel, stride, padding, bias=False)} with torchvision's
   * initialisation: weights from N(0, 2 / fan_out), fan_out = out x kernel x kernel.
   */
  static Conv2dImpl conv(long in, long out, long kernel, long stride, long padding) {
    try (PointerScope scope = new PointerScope()) {
      Conv2dOptions options = new Conv2dOptions(in, out, square(kernel));
      fill(options.stride(), stride);
      options.padding().put(square(padding));
      options.bias().put(false);
      Conv2dImpl conv = new Conv2dImpl(options);
      double std = RELU_GAIN / Math.sqrt((double) out * kernel * kernel);
      try (NoGradGuard noGrad = new NoGradGuard()) {
        conv.weight().normal_(0.0, std, new GeneratorOptional());
      }
      return conv.retainReference();
    }
  }

  /** {@code nn.BatchNorm2d(features)}. */
  static BatchNorm2dImpl batchNorm(long features) {
    try (PointerScope scope = new PointerScope()) {
      return new BatchNorm2dImpl(new BatchNormOptions(features)).retainReference();
    }
  }

  /**
   * A module with no parameters of its own that holds others: a model, a block, a stage
   * ({@code nn.Sequential}, whose children are named "0", "1", ...). {@code typeName} is the
   * Python class name LibTorch reports for it.
   */
  static Module container(String typeName) {
    try (PointerScope scope = new PointerScope()) {
      return new Module(typeName).retainReference();
    }
  }

  /** {@code nn.Linear(in, out)} with a bias. */
  static LinearImpl linear(long in, long out) {
    try (PointerScope scope = new PointerScope()) {
      return new LinearImpl(in, out).retainReference();
    }
  }

  /** A new {@code ExpandingArray<2>} of {@code value} (to be freed by the enclosing scope). */
  private static LongPointer square(long value) {
    return fill(new LongPointer(SPATIAL_DIMS), value);
  }

  /** Sets both values of the {@code ExpandingArray<2>} at {@code array}. */
  private static LongPointer fill(LongPointer array, long value) {
    for (int i = 0; i < SPATIAL_DIMS; i++) array.put(i, value);
    return array;
  }
}
