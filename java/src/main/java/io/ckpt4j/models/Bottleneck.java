package io.ckpt4j.models;

import org.bytedeco.pytorch.BatchNorm2dImpl;
import org.bytedeco.pytorch.Conv2dImpl;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * torchvision's {@code Bottleneck} (resnet50, resnet101, resnet152; ResNet v1.5: the stride is
 * on the 3x3 convolution): {@code conv1} (1x1), {@code bn1}, relu, {@code conv2} (3x3, strided),
 * {@code bn2}, relu, {@code conv3} (1x1 to {@code planes * 4}), {@code bn3}.
 */
final class Bottleneck extends ResidualBlock {
  private final Conv2dImpl conv1;
  private final BatchNorm2dImpl bn1;
  private final Conv2dImpl conv2;
  private final BatchNorm2dImpl bn2;
  private final Conv2dImpl conv3;
  private final BatchNorm2dImpl bn3;

  Bottleneck(long inplanes, long planes, long stride, NativeHandles handles) {
    super("Bottleneck", handles);
    long outplanes = planes * ResNetArch.Block.BOTTLENECK.expansion();
    conv1 = child("conv1", Layers.conv1x1(inplanes, planes, 1));
    bn1 = child("bn1", Layers.batchNorm(planes));
    conv2 = child("conv2", Layers.conv3x3(planes, planes, stride));
    bn2 = child("bn2", Layers.batchNorm(planes));
    conv3 = child("conv3", Layers.conv1x1(planes, outplanes, 1));
    bn3 = child("bn3", Layers.batchNorm(outplanes));
  }

  @Override
  Tensor residual(Tensor x) {
    Tensor out = torch.relu_(bn1.forward(conv1.forward(x)));
    out = torch.relu_(bn2.forward(conv2.forward(out)));
    return bn3.forward(conv3.forward(out));
  }
}
