package io.ckpt4j.statedict;

import io.ckpt4j.CheckpointException;
import io.ckpt4j.tensor.Devices;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.global.torch;

/** A device a state_dict is moved to ({@code "cpu"}, {@code "cuda"}, {@code "cuda:N"}), checked. */
final class TargetDevice {
  private static final String CPU = "cpu";
  private static final String CUDA_PREFIX = "cuda:";

  private TargetDevice() {}

  /** The LibTorch device for {@code name}, after checking it exists on this machine. */
  static Device resolve(String name) throws CheckpointException {
    String canonical = Devices.canonical(name);
    if (canonical.equals(CPU)) return new Device(CPU);
    if (canonical.startsWith(CUDA_PREFIX)) {
      long index;
      try {
        index = Long.parseLong(canonical.substring(CUDA_PREFIX.length()));
      } catch (NumberFormatException e) {
        throw unknown(name);
      }
      long count = torch.cuda_is_available() ? torch.cuda_device_count() : 0;
      if (index < 0 || index >= count) {
        throw new CheckpointException("cannot move the state_dict to " + canonical + ": this"
            + " machine has " + count + " CUDA device(s); use cpu"
            + (count > 0 ? " or cuda:0 to cuda:" + (count - 1) : ""));
      }
      return new Device(canonical);
    }
    throw unknown(name);
  }

  private static CheckpointException unknown(String name) {
    return new CheckpointException("cannot move the state_dict to '" + TreeValues.quoted(name)
        + "': not a device ckpt4j knows; use cpu, cuda or cuda:N");
  }
}
