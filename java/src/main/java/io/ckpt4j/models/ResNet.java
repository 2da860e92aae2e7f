package io.ckpt4j.models;

import io.ckpt4j.CheckpointException;
import io.ckpt4j.CheckpointException.Kind;
import io.ckpt4j.OwnedResource;
import io.ckpt4j.load.CheckpointLoader;
import io.ckpt4j.load.LoadOptions;
import io.ckpt4j.load.LoadedCheckpoint;
import io.ckpt4j.nativeio.NativeStorage;
import io.ckpt4j.nn.TorchModel;
import io.ckpt4j.tensor.Devices;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Objects;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.BatchNorm2dImpl;
import org.bytedeco.pytorch.Conv2dImpl;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.LinearImpl;
import org.bytedeco.pytorch.Module;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * torchvision's ResNet (resnet18, resnet34, resnet50, resnet101, resnet152) built from LibTorch
 * layers, with torchvision's module tree: {@code conv1}, {@code bn1}, {@code layer1} ..
 * {@code layer4} (each an {@code nn.Sequential} of blocks "0", "1", ..., a stage's first block
 * with {@code downsample.0} / {@code downsample.1} where it changes stride or width) and
 * {@code fc}; ReLU, max pooling and average pooling hold no weights and run as functions. Its
 * {@code state_dict} has torchvision's keys in torchvision's order, so weights saved in Python
 * ({@code torch.save(model.state_dict(), PATH)}) load strictly and compute the same logits.
 *
 * <pre>{@code
 * try (ResNet model = ResNet.create("resnet50", 1000);
 *     LoadedCheckpoint file = CheckpointLoader.load(Path.of("resnet50.pth"), cpu);
 *     StateDict weights = StateDict.from(file)) {
 *   weights.loadInto(model.module());
 *   model.eval();
 *   try (NoGradGuard noGrad = new NoGradGuard(); Tensor logits = model.forward(images)) { ... }
 * }
 * }</pre>
 *
 * <p>{@code width} narrows every stage (torchvision's widths are 64, 128, 256 and 512 planes,
 * {@code width = 64}) without changing a name. A new model is initialised as torchvision
 * initialises it and is in training mode, like a new Python module: call {@link #eval()} before
 * inference.
 *
 * <p>The model owns its LibTorch modules; {@link #close()} releases them (a second close does
 * nothing). {@link #forward} frees every intermediate tensor before it returns. Not thread-safe.
 */
public final class ResNet extends OwnedResource implements TorchModel {
  static {
    // LibTorch with ckpt4j's settings (quiet CPU convolutions), even when no checkpoint was read.
    NativeStorage.ensureLoaded();
  }

  /** torchvision's stem width: conv1's output channels and layer1's planes. */
  public static final long FULL_WIDTH = 64;
  /** torchvision's default {@code num_classes} (ImageNet). */
  public static final long IMAGENET_CLASSES = 1000;

  private static final long IMAGE_CHANNELS = 3;
  private static final long STEM_KERNEL = 7;
  private static final long STEM_STRIDE = 2;
  private static final long STEM_PADDING = 3;
  /** torchvision's {@code nn.MaxPool2d(kernel_size=3, stride=2, padding=1)}. */
  private static final long[] MAXPOOL_KERNEL = {3, 3};
  private static final long[] MAXPOOL_STRIDE = {2, 2};
  private static final long[] MAXPOOL_PADDING = {1, 1};
  private static final long[] MAXPOOL_DILATION = {1, 1};
  /** {@code nn.AdaptiveAvgPool2d((1, 1))}. */
  private static final long[] POOLED_SIZE = {1, 1};
  /** Stage i (0-based) has {@code width << i} planes; every stage after the first strides. */
  private static final int STAGES = 4;
  private static final long STAGE_STRIDE = 2;

  private final ResNetArch arch;
  private final long numClasses;
  private final long width;
  private final NativeHandles handles = own(new NativeHandles());
  private final Module module;
  private final Conv2dImpl conv1;
  private final BatchNorm2dImpl bn1;
  private final List<ResidualBlock> blocks;
  private final LinearImpl fc;

  private ResNet(ResNetArch arch, long numClasses, long width) {
    this.arch = arch;
    this.numClasses = numClasses;
    this.width = width;
    try {
      module = handles.own(Layers.container("ResNet"));
      conv1 = child(module, "conv1",
          Layers.conv(IMAGE_CHANNELS, width, STEM_KERNEL, STEM_STRIDE, STEM_PADDING));
      bn1 = child(module, "bn1", Layers.batchNorm(width));
      List<ResidualBlock> all = new ArrayList<>();
      long inplanes = width;
      int[] blocksPerStage = arch.blocksPerStage();
      for (int stage = 0; stage < STAGES; stage++) {
        Module layer = child(module, "layer" + (stage + 1),
            Layers.container(ResidualBlock.SEQUENTIAL));
        long planes = width << stage;
        for (int i = 0; i < blocksPerStage[stage]; i++) {
          long stride = (stage > 0 && i == 0) ? STAGE_STRIDE : 1;
          ResidualBlock block = ResidualBlock.create(arch.block(), inplanes, planes, stride,
              handles);
          layer.register_module(Integer.toString(i), block.module());
          all.add(block);
          inplanes = planes * arch.block().expansion();
        }
      }
      blocks = Collections.unmodifiableList(all);
      fc = child(module, "fc", Layers.linear(inplanes, numClasses));
    } catch (RuntimeException e) {
      close(); // releases the handles taken so far
      throw e;
    }
  }

  private <M extends Module> M child(Module parent, String name, M layer) {
    return parent.register_module(name, handles.own(layer));
  }

  // --------------------------------------------------------------------------------------------
  // Factories
  // --------------------------------------------------------------------------------------------

  /** {@code torchvision.models.resnet18(num_classes=numClasses)}, not pretrained. */
  public static ResNet resnet18(long numClasses) {
    return create(ResNetArch.RESNET18, numClasses, FULL_WIDTH);
  }

  /** {@code torchvision.models.resnet34(num_classes=numClasses)}, not pretrained. */
  public static ResNet resnet34(long numClasses) {
    return create(ResNetArch.RESNET34, numClasses, FULL_WIDTH);
  }

  /** {@code torchvision.models.resnet50(num_classes=numClasses)}, not pretrained. */
  public static ResNet resnet50(long numClasses) {
    return create(ResNetArch.RESNET50, numClasses, FULL_WIDTH);
  }

  /** {@code torchvision.models.resnet101(num_classes=numClasses)}, not pretrained. */
  public static ResNet resnet101(long numClasses) {
    return create(ResNetArch.RESNET101, numClasses, FULL_WIDTH);
  }

  /** {@code torchvision.models.resnet152(num_classes=numClasses)}, not pretrained. */
  public static ResNet resnet152(long numClasses) {
    return create(ResNetArch.RESNET152, numClasses, FULL_WIDTH);
  }

  /**
   * The architecture torchvision calls {@code arch} ("resnet18" .. "resnet152") at full width.
   *
   * @throws IllegalArgumentException for an unknown name or {@code numClasses < 1}
   */
  public static ResNet create(String arch, long numClasses) {
    return create(ResNetArch.of(arch), numClasses, FULL_WIDTH);
  }

  /**
   * {@code arch} with {@code width} planes in its first stage (64 in torchvision) and
   * {@code width * 2}, {@code * 4}, {@code * 8} in the next ones: same names, narrower tensors.
   *
   * @throws IllegalArgumentException for an unknown name, {@code numClasses < 1} or
   *     {@code width < 1}
   */
  public static ResNet create(String arch, long numClasses, long width) {
    return create(ResNetArch.of(arch), numClasses, width);
  }

  /** See {@link #create(String, long, long)}. */
  public static ResNet create(ResNetArch arch, long numClasses, long width) {
    Objects.requireNonNull(arch, "arch");
    if (numClasses < 1) {
      throw new IllegalArgumentException("num_classes must be at least 1, got " + numClasses);
    }
    if (width < 1 || width > Integer.MAX_VALUE) {
      throw new IllegalArgumentException("width must be a positive int (torchvision: "
          + FULL_WIDTH + "), got " + width);
    }
    return new ResNet(arch, numClasses, width);
  }

  // --------------------------------------------------------------------------------------------
  // The model
  // --------------------------------------------------------------------------------------------

  /** The architecture. */
  public ResNetArch arch() {
    return arch;
  }

  /** {@code num_classes}: fc's output size. */
  public long numClasses() {
    return numClasses;
  }

  /** The first stage's planes (torchvision: 64). */
  public long width() {
    return width;
  }

  /** The module tree (its state_dict is torchvision's); it belongs to this model. */
  @Override
  public Module module() {
    ensureOpen();
    return module;
  }

  /**
   * torchvision's {@code ResNet.forward}: conv1, bn1, relu, maxpool, layer1 .. layer4, average
   * pooling to 1x1, flatten, fc. {@code input} is an N x 3 x H x W float tensor on the model's
   * device; the result is N x num_classes. BatchNorm uses batch statistics and updates its
   * running ones in training mode, and uses the running ones after {@link #eval()}.
   *
   * <p>Intermediate tensors are freed before this returns. The result is the caller's to close;
   * when the caller has a {@link PointerScope} open, it is attached to it, as a tensor the
   * caller made there would be.
   */
  @Override
  public Tensor forward(Tensor input) {
    ensureOpen();
    Objects.requireNonNull(input, "input");
    Tensor logits;
    try (PointerScope scope = new PointerScope()) {
      Tensor x = torch.relu_(bn1.forward(conv1.forward(input)));
      x = torch.max_pool2d(x, MAXPOOL_KERNEL, MAXPOOL_STRIDE, MAXPOOL_PADDING, MAXPOOL_DILATION,
          false);
      for (ResidualBlock block : blocks) x = block.forward(x);
      x = torch.flatten(torch.adaptive_avg_pool2d(x, POOLED_SIZE), 1, -1);
      logits = fc.forward(x).retainReference(); // outlives the scope, which frees the rest
    }
    return CallerScope.adopt(logits);
  }

  /** Python's {@code model.train(mode)}: BatchNorm uses batch statistics when true. */
  public ResNet train(boolean mode) {
    ensureOpen();
    module.train(mode);
    return this;
  }

  /** Python's {@code model.eval()}: BatchNorm uses its running statistics. */
  public ResNet eval() {
    return train(false);
  }

  /** Python's {@code model.training}. */
  public boolean isTraining() {
    ensureOpen();
    return module.is_training();
  }

  /**
   * Python's {@code model.to(device)}: moves every parameter and buffer.
   *
   * @param device "cpu", "cuda" or "cuda:N"
   * @throws CheckpointException when the device does not exist on this machine
   */
  public ResNet to(String device) throws CheckpointException {
    ensureOpen();
    try (Device target = Devices.resolve(device, "the model", "use cpu")) {
      module.to(target, false);
    }
    return this;
  }

  /** Releases the model's modules (and their tensors, unless a wrapper still holds them). */
  @Override
  protected void releaseResources() {
    handles.close();
  }

  @Override
  protected String resourceName() {
    return arch.pythonName() + " model";
  }

  @Override
  public String toString() {
    return arch.pythonName() + "(num_classes=" + numClasses
        + (width == FULL_WIDTH ? "" : ", width=" + width) + ")";
  }
}
