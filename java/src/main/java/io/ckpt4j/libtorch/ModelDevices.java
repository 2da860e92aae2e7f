package io.ckpt4j.libtorch;

import io.ckpt4j.CheckpointException;
import io.ckpt4j.tensor.Devices;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.global.torch;

/**
 * Checks the device a whole model or module archive is loaded onto or moved to: "cpu", "cuda"
 * (device 0) or "cuda:N" that exists on this machine — the rules {@link Devices} applies to a
 * {@code map_location}, worded for a model.
 */
final class ModelDevices {
  private static final String CPU = "cpu";
  private static final String CUDA_PREFIX = "cuda:";

  private ModelDevices() {}

  /** The canonical device string ("cpu", "cuda:N") for {@code device}, after checking it. */
  static String check(String device, String what) throws CheckpointException {
    if (device == null || device.isBlank()) {
      throw new CheckpointException(what + ": no device given: pass \"cpu\" or \"cuda:N\"");
    }
    String canonical = Devices.canonical(device);
    if (canonical.equals(CPU)) return CPU;
    if (!canonical.startsWith(CUDA_PREFIX)) {
      throw new CheckpointException(what + ": unknown device '" + device
          + "': ckpt4j places models on \"cpu\", \"cuda\" or \"cuda:N\"");
    }
    int index;
    try {
      index = Integer.parseInt(canonical.substring(CUDA_PREFIX.length()));
    } catch (NumberFormatException e) {
      throw new CheckpointException(what + ": unknown device '" + device
          + "': a CUDA device is \"cuda\" or \"cuda:N\" with N a device index");
    }
    if (!torch.cuda_is_available()) {
      throw new CheckpointException(what + ": device " + canonical + " asked for, but CUDA is"
          + " not available here (no GPU, or a CPU-only LibTorch): use device \"cpu\"");
    }
    int count = Byte.toUnsignedInt(torch.cuda_device_count());
    if (index < 0 || index >= count) {
      throw new CheckpointException(what + ": device " + canonical + " asked for, but this"
          + " machine has " + count + " CUDA device(s): use cuda:0" + (count > 1
              ? " to cuda:" + (count - 1) : "") + " or \"cpu\"");
    }
    return canonical;
  }

  /** The LibTorch device of a string {@link #check} accepted. */
  static Device device(String canonical) {
    return new Device(canonical);
  }
}
