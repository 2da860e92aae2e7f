package io.ckpt4j.checkpoint;

import org.bytedeco.javacpp.LongPointer;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.BatchNorm2dImpl;
import org.bytedeco.pytorch.BatchNormOptions;
import org.bytedeco.pytorch.Conv2dImpl;
import org.bytedeco.pytorch.Conv2dOptions;
import org.bytedeco.pytorch.LinearImpl;
import org.bytedeco.pytorch.Module;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;

/**
 * The Java twin of tests/python/training_cases.py's SmallNet: conv(3→4, 3x3, padding 1, no bias) +
 * BatchNorm2d(4) + ReLU + avg_pool2d(2) + Linear(64→5), registered in Python's order so that
 * {@code parameters()} is Python's {@code model.parameters()} and the state dict keys are Python's.
 * Its weights come from the Python-written init.pt (loaded by the test), never from Java's RNG.
 */
final class SmallNet implements AutoCloseable {
  static final long CHANNELS = 3;
  static final long FEATURES = 4;
  static final long KERNEL = 3;
  static final long PADDING = 1;
  static final long POOL = 2;
  static final long CLASSES = 5;
  static final long SIDE = 8;

  final Module module = new Module("SmallNet");
  private final Conv2dImpl conv;
  private final BatchNorm2dImpl bn;
  private final LinearImpl fc;

  SmallNet() {
    try (PointerScope scope = new PointerScope()) {
      Conv2dOptions convOptions = new Conv2dOptions(CHANNELS, FEATURES, square(KERNEL));
      convOptions.padding().put(square(PADDING));
      convOptions.bias().put(false); // as Python's: nn.Conv2d(..., bias=False) before the BatchNorm
      conv = module.register_module("conv", new Conv2dImpl(convOptions)).retainReference();
      bn = module.register_module("bn", new BatchNorm2dImpl(new BatchNormOptions(FEATURES)))
          .retainReference();
      long flat = FEATURES * (SIDE / POOL) * (SIDE / POOL);
      fc = module.register_module("fc", new LinearImpl(flat, CLASSES)).retainReference();
    }
    module.train(true);
  }

  private static LongPointer square(long v) {
    return new LongPointer(v, v);
  }

  /** relu(bn(conv(x))) → avg_pool2d(2) → flatten(1) → fc: Python's forward, op for op. */
  Tensor forward(Tensor x) {
    Tensor h = torch.relu(bn.forward(conv.forward(x)));
    h = torch.avg_pool2d(h, POOL, POOL);
    return fc.forward(h.flatten(1, -1));
  }

  TensorVector parameters() {
    return module.parameters();
  }

  /** The parameters in Python's order, each a reference of its own (not a view into a vector). */
  java.util.List<Tensor> parameterList() {
    java.util.List<Tensor> out = new java.util.ArrayList<>();
    try (TensorVector v = module.parameters()) {
      for (long i = 0; i < v.size(); i++) out.add(new Tensor(v.get(i)));
    }
    return out;
  }

  @Override
  public void close() {
    conv.close();
    bn.close();
    fc.close();
    module.close();
  }
}
