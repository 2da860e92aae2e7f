package io.ckpt4j.libtorch;

import java.util.LinkedHashMap;
import java.util.Map;
import org.bytedeco.javacpp.LongPointer;
import org.bytedeco.pytorch.BatchNorm2dImpl;
import org.bytedeco.pytorch.BatchNormOptions;
import org.bytedeco.pytorch.Conv2dImpl;
import org.bytedeco.pytorch.Conv2dOptions;
import org.bytedeco.pytorch.LinearImpl;
import org.bytedeco.pytorch.Module;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.ReLUImpl;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.StringSharedModuleDict;
import org.bytedeco.pytorch.StringTensorDict;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * A small module built in Java from LibTorch layers for the archive tests: parameter
 * {@code alpha} and buffer {@code scale} on the root, {@code conv} (Conv2d 3→channels, 3×3),
 * {@code bn} (BatchNorm2d), and {@code head}, a Sequential of Linear, ReLU, Linear.
 *
 * <p>Every submodule made in Java is a field: LibTorch calls a module's virtual methods (save,
 * load) through its Java object, so each must stay reachable as long as the root is used.
 */
final class ArchiveNet extends Module {
  static final int IN_CHANNELS = 3;
  static final int CHANNELS = 4;
  static final int HIDDEN = 8;
  static final int CLASSES = 2;
  static final long KERNEL = 3;
  /** Values written by {@link #fill}: element i of the k-th tensor is k + i * STEP. */
  static final double STEP = 0.01;

  final Conv2dImpl conv;
  final BatchNorm2dImpl bn;
  final Module head;
  final LinearImpl head0;
  final ReLUImpl head1;
  final LinearImpl head2;
  final LinearImpl extra;

  ArchiveNet() {
    this(CHANNELS, true, false);
  }

  /** The same architecture with {@code channels} conv outputs, with or without bn, and an extra layer. */
  ArchiveNet(int channels, boolean withBatchNorm, boolean withExtra) {
    super("ArchiveNet");
    register_parameter("alpha", torch.randn(IN_CHANNELS));
    register_buffer("scale", torch.randn(CLASSES));
    conv = register_module("conv", new Conv2dImpl(
        new Conv2dOptions(IN_CHANNELS, channels, new LongPointer(KERNEL, KERNEL))));
    if (withBatchNorm) {
      bn = new BatchNorm2dImpl(new BatchNormOptions(channels));
      register_module("bn", bn);
      // The presets allocate BatchNorm2dImpl without a shared_ptr: the parent owns it from here.
      bn.deallocate(false);
    } else {
      bn = null;
    }
    head = new Module("Sequential");
    head0 = head.register_module("0", new LinearImpl(channels, HIDDEN));
    head1 = head.register_module("1", new ReLUImpl());
    head2 = head.register_module("2", new LinearImpl(HIDDEN, CLASSES));
    register_module("head", head);
    extra = withExtra ? register_module("extra", new LinearImpl(CLASSES, CLASSES)) : null;
  }

  /**
   * Python's {@code state_dict()} of the module: each module's parameters, then its buffers, then
   * its children, depth first — the names and order torch.jit.load gives the saved archive.
   */
  static Map<String, Tensor> stateDict(Module module) {
    Map<String, Tensor> out = new LinkedHashMap<>();
    collect(module, "", out);
    return out;
  }

  private static void collect(Module module, String prefix, Map<String, Tensor> out) {
    StringTensorDict params = module.named_parameters(false);
    for (long i = 0; i < params.size(); i++) {
      out.put(prefix + params.get(i).key().getString(), params.get(i).value());
    }
    StringTensorDict buffers = module.named_buffers(false);
    for (long i = 0; i < buffers.size(); i++) {
      out.put(prefix + buffers.get(i).key().getString(), buffers.get(i).value());
    }
    StringSharedModuleDict children = module.named_children();
    for (long i = 0; i < children.size(); i++) {
      collect(children.get(i).value(), prefix + children.get(i).key().getString() + ".", out);
    }
  }

  /** Deterministic values: the k-th tensor gets k + i * STEP (integers: k), not LibTorch's init. */
  static void fill(Module module) {
    try (NoGradGuard guard = new NoGradGuard()) {
      int k = 0;
      for (Tensor t : stateDict(module).values()) {
        if (t.is_floating_point()) {
          try (Tensor ramp = torch.arange(new Scalar((double) t.numel()))
              .mul(new Scalar(STEP)).add(new Scalar((double) k)).reshape(t.sizes())) {
            t.copy_(ramp);
          }
        } else {
          t.fill_(new Scalar((long) k));
        }
        k++;
      }
    }
  }
}
