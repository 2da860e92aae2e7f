package io.ckpt4j.models;

import io.ckpt4j.CheckpointException;
import io.ckpt4j.tensor.Devices;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.global.torch;

/** The device a model is moved to ({@code model.to(device)}), checked to exist here. */
final class ModelDevices {
  private static final String CPU = "cpu";
  private static final String CUDA_PREFIX = "cuda:";

  private ModelDevices() {}

  /**
   * The LibTorch device for "cpu", "cuda" (device 0) or "cuda:N".
   *
   * @throws CheckpointException for another name, or a CUDA device this machine does not have
   */
  static Device resolve(String device) throws CheckpointException {
    String name = Devices.canonical(device);
    if (name.equals(CPU)) return new Device(CPU);
    if (!name.startsWith(CUDA_PREFIX)) {
      throw new CheckpointException("unknown device '" + device + "' for the model: use cpu,"
          + " cuda or cuda:N");
    }
    int index;
    try {
      index = Integer.parseInt(name.substring(CUDA_PREFIX.length()));
    } catch (NumberFormatException e) {
      throw new CheckpointException("unknown device '" + device + "' for the model: use cpu,"
          + " cuda or cuda:N");
    }
    long count = torch.cuda_is_available() ? torch.cuda_device_count() : 0;
    if (index < 0 || index >= count) {
      throw new CheckpointException("cannot move the model to " + name + ": this machine has "
          + count + " CUDA device(s); use cpu" + (count > 0 ? " or cuda:0.." + (count - 1) : ""));
    }
    return new Device(name);
  }
}
