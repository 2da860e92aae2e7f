package io.ckpt4j.statedict;

import org.bytedeco.javacpp.LongPointer;
import org.bytedeco.pytorch.BatchNorm2dImpl;
import org.bytedeco.pytorch.BatchNormOptions;
import org.bytedeco.pytorch.Conv2dImpl;
import org.bytedeco.pytorch.Conv2dOptions;
import org.bytedeco.pytorch.LinearImpl;
import org.bytedeco.pytorch.Module;
import org.bytedeco.pytorch.ReLUImpl;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;

/**
 * make_statedicts.py's {@code Net}, built from LibTorch layers with Python's names and
 * registration order: a root buffer {@code step}; {@code features} holding Block(3, 4), a ReLU
 * and Block(4, 4) as {@code 0}, {@code 1}, {@code 2}; {@code head} a Linear(4, 3). A Block has
 * parameter {@code gain}, buffer {@code scale}, a Conv2d without bias and a BatchNorm2d. Python's
 * non-persistent buffer {@code cache} has no LibTorch equivalent and is left out; its None
 * parameter {@code unused} is an undefined LibTorch parameter, as Linear(bias=false) makes.
 */
final class JavaNet {
  static final int IN_CHANNELS = 3;
  static final int CHANNELS = 4;
  static final int CLASSES = 3;
  static final long KERNEL = 3;

  private JavaNet() {}

  static Module net() {
    Module root = new Module("Net");
    root.register_buffer("step",
        torch.zeros(new long[] {}, new TensorOptions(torch.ScalarType.Long)));
    Module features = new Module("Sequential");
    features.register_module("0", block(IN_CHANNELS, CHANNELS));
    features.register_module("1", new ReLUImpl());
    features.register_module("2", block(CHANNELS, CHANNELS));
    root.register_module("features", features);
    root.register_module("head", new LinearImpl(CHANNELS, CLASSES));
    return root;
  }

  /** Python's DataParallel / a wrapper: the model as child {@code module}. */
  static Module wrapped(Module model) {
    Module wrapper = new Module("DataParallel");
    wrapper.register_module("module", model);
    return wrapper;
  }

  private static Module block(int in, int out) {
    Module block = new Module("Block");
    block.register_parameter("gain", torch.randn(out));
    block.register_parameter("unused", new Tensor(), false);
    block.register_buffer("scale", torch.randn(out));
    Conv2dOptions conv = new Conv2dOptions(in, out, new LongPointer(KERNEL, KERNEL));
    conv.bias().put(false);
    block.register_module("conv", new Conv2dImpl(conv));
    BatchNorm2dImpl bn = new BatchNorm2dImpl(new BatchNormOptions(out));
    block.register_module("bn", bn);
    // The presets (1.5.14) allocate BatchNorm2dImpl without a shared_ptr, so register_module's
    // shared_ptr and this Java object would both delete it: the parent owns it from here on.
    bn.deallocate(false);
    return block;
  }
}
