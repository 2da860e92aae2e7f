package io.ckpt4j.models;

import org.bytedeco.pytorch.BatchNorm2dImpl;
import org.bytedeco.pytorch.Conv2dImpl;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * torchvision's {@code BasicBlock} (resnet18, resnet34): {@code conv1} (3x3, strided),
 * {@code bn1}, relu, {@code conv2} (3x3), {@code bn2}; expansion 1.
 */
final class BasicBlock extends ResidualBlock {
  private final Conv2dImpl conv1;
  private final BatchNorm2dImpl bn1;
  private final Conv2dImpl conv2;
  private final BatchNorm2dImpl bn2;

  BasicBlock(long inplanes, long planes, long stride, NativeHandles handles) {
    super("BasicBlock", handles);
    conv1 = child("conv1", Layers.conv3x3(inplanes, planes, stride));
    bn1 = child("bn1", Layers.batchNorm(planes));
    conv2 = child("conv2", Layers.conv3x3(planes, planes, 1));
    bn2 = child("bn2", Layers.batchNorm(planes));
  }

  @Override
  Tensor residual(Tensor x) {
    Tensor out = torch.relu_(bn1.forward(conv1.forward(x)));
    return bn2.forward(conv2.forward(out));
  }
}
