package io.ckpt4j.parallel;

import io.ckpt4j.nn.TorchModel;
import org.bytedeco.javacpp.LongPointer;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.BatchNorm2dImpl;
import org.bytedeco.pytorch.BatchNormOptions;
import org.bytedeco.pytorch.Conv2dImpl;
import org.bytedeco.pytorch.Conv2dOptions;
import org.bytedeco.pytorch.LinearImpl;
import org.bytedeco.pytorch.Module;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * make_parallel.py's {@code SmallNet} from LibTorch layers, with Python's names: {@code conv}
 * (3 to 8 channels, 3x3, padding 1), {@code bn}, {@code fc} (8 x 6 x 6 to 5); forward
 * {@code fc(flatten(relu(bn(conv(x)))))}.
 */
final class SmallNet implements TorchModel {
  static final long IN_CHANNELS = 3;
  static final long CHANNELS = 8;
  static final long SIDE = 6;
  static final long CLASSES = 5;
  private static final long KERNEL = 3;
  private static final long PADDING = 1;

  private final Module root = new Module("SmallNet");
  private final Conv2dImpl conv;
  private final BatchNorm2dImpl bn;
  private final LinearImpl fc;

  SmallNet() {
    try (LongPointer kernel = new LongPointer(KERNEL, KERNEL);
        LongPointer padding = new LongPointer(PADDING, PADDING);
        Conv2dOptions options = new Conv2dOptions(IN_CHANNELS, CHANNELS, kernel)) {
      options.padding().put(padding);
      conv = root.register_module("conv", new Conv2dImpl(options));
    }
    try (BatchNormOptions options = new BatchNormOptions(CHANNELS)) {
      bn = root.register_module("bn", new BatchNorm2dImpl(options));
    }
    // The presets (1.5.14) allocate BatchNorm2dImpl without a shared_ptr: once registered, the
    // parent's shared_ptr owns it, so this Java object must never delete it (nor may a
    // PointerScope own it).
    bn.deallocate(false);
    fc = root.register_module("fc", new LinearImpl(CHANNELS * SIDE * SIDE, CLASSES));
  }

  @Override
  public Module module() {
    return root;
  }

  @Override
  public Tensor forward(Tensor x) {
    try (PointerScope scope = new PointerScope()) {
      Tensor h = torch.relu(bn.forward(conv.forward(x)));
      return fc.forward(h.flatten(1, -1)).retainReference();
    }
  }
}
