package io.ckpt4j.models;

import org.bytedeco.pytorch.BatchNorm2dImpl;
import org.bytedeco.pytorch.Conv2dImpl;
import org.bytedeco.pytorch.Module;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * One of torchvision's residual blocks: {@code relu(residual(x) + shortcut(x))}, where the
 * shortcut is {@code x} itself or, when the block changes stride or width, {@code downsample}: a
 * strided 1x1 convolution and a BatchNorm registered as {@code downsample.0} and
 * {@code downsample.1}, after the block's own layers (torchvision assigns {@code downsample}
 * last, which fixes the state_dict order).
 *
 * <p>The block's modules belong to the model's {@link NativeHandles}. {@link #forward} makes
 * tensors without freeing them: it runs inside the model's forward scope.
 */
abstract sealed class ResidualBlock permits BasicBlock, Bottleneck {
  /** The Python class name LibTorch reports for a plain container ({@code nn.Sequential}). */
  static final String SEQUENTIAL = "Sequential";

  private final Module module;
  private final NativeHandles handles;
  private Conv2dImpl downsampleConv;
  private BatchNorm2dImpl downsampleNorm;

  ResidualBlock(String typeName, NativeHandles handles) {
    this.handles = handles;
    this.module = handles.own(Layers.container(typeName));
  }

  /**
   * torchvision's {@code block(inplanes, planes, stride, downsample)} as {@code _make_layer}
   * builds it: with a downsample when {@code stride != 1} or the input width differs from the
   * block's output width ({@code planes * expansion}).
   */
  static ResidualBlock create(ResNetArch.Block kind, long inplanes, long planes, long stride,
      NativeHandles handles) {
    ResidualBlock block = switch (kind) {
      case BASIC -> new BasicBlock(inplanes, planes, stride, handles);
      case BOTTLENECK -> new Bottleneck(inplanes, planes, stride, handles);
    };
    long outplanes = planes * kind.expansion();
    if (stride != 1 || inplanes != outplanes) block.addDownsample(inplanes, outplanes, stride);
    return block;
  }

  /** The block's module (registered by its stage under its index). */
  final Module module() {
    return module;
  }

  /** Registers {@code layer} as the child {@code name} of this block and returns it. */
  final <M extends Module> M child(String name, M layer) {
    return module.register_module(name, handles.own(layer));
  }

  private void addDownsample(long inplanes, long outplanes, long stride) {
    Module downsample = child("downsample", Layers.container(SEQUENTIAL));
    downsampleConv = handles.own(Layers.conv1x1(inplanes, outplanes, stride));
    downsample.register_module("0", downsampleConv);
    downsampleNorm = handles.own(Layers.batchNorm(outplanes));
    downsample.register_module("1", downsampleNorm);
  }

  /** The block's main path, before the shortcut is added. */
  abstract Tensor residual(Tensor x);

  /** {@code relu(residual(x) + shortcut(x))}. */
  final Tensor forward(Tensor x) {
    Tensor out = residual(x);
    Tensor identity =
        downsampleConv == null ? x : downsampleNorm.forward(downsampleConv.forward(x));
    out.add_(identity);
    return torch.relu_(out);
  }
}
