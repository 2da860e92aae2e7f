package io.ckpt4j.distributed;

import io.ckpt4j.nn.TorchModel;
import org.bytedeco.javacpp.LongPointer;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Conv2dImpl;
import org.bytedeco.pytorch.Conv2dOptions;
import org.bytedeco.pytorch.LinearImpl;
import org.bytedeco.pytorch.Module;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * tests/python/dist_peer.py's SmallCnn: conv (1 to 4 channels, 3x3, padding 1), relu, 2x2 max
 * pool, flatten, fc (64 to 3). Its initial weights come from Python's init.pt.
 */
final class SmallCnn implements TorchModel {
  static final long SIDE = 8;
  static final long CLASSES = 3;
  private static final long CHANNELS = 4;
  private final Module root = new Module("SmallCnn");
  private final Conv2dImpl conv;
  private final LinearImpl fc;

  SmallCnn() {
    try (PointerScope scope = new PointerScope()) {
      Conv2dOptions options = new Conv2dOptions(1, CHANNELS, new LongPointer(3L, 3L));
      options.padding().put(new LongPointer(1L, 1L));
      conv = root.register_module("conv", new Conv2dImpl(options)).retainReference();
    }
    fc = root.register_module("fc", new LinearImpl(CHANNELS * (SIDE / 2) * (SIDE / 2), CLASSES));
  }

  @Override
  public Module module() {
    return root;
  }

  @Override
  public Tensor forward(Tensor x) {
    try (PointerScope scope = new PointerScope()) {
      Tensor pooled = torch.max_pool2d(torch.relu(conv.forward(x)), new long[] {2, 2});
      return fc.forward(pooled.flatten(1, -1)).retainReference();
    }
  }
}
