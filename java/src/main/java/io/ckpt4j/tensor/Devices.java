package io.ckpt4j.tensor;

import io.ckpt4j.CheckpointException;
import io.ckpt4j.CheckpointException.Kind;
import java.util.ArrayList;
import java.util.List;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.global.torch;

/**
 * Device names as torch.device spells them — {@code cpu}, {@code cuda} (device 0),
 * {@code cuda:N} — checked against what this machine has. The one place every layer (storages
 * under map_location, state dicts, models, DataParallel) asks "does this device exist here?".
 *
 * <p>CUDA devices are counted by LibTorch, which sees what the CUDA runtime shows, so
 * {@code CUDA_VISIBLE_DEVICES} applies as in Python.
 */
public final class Devices {
  public static final String CPU = "cpu";
  public static final String CUDA = "cuda";
  private static final String CUDA_PREFIX = CUDA + ":";
  /** The environment variable that selects and renumbers the CUDA devices a process sees. */
  public static final String CUDA_VISIBLE_DEVICES = "CUDA_VISIBLE_DEVICES";

  private Devices() {}

  /** The canonical form of a location: trimmed, and "cuda" as "cuda:0". */
  public static String canonical(String location) {
    String s = location.trim();
    if (s.equals(CUDA)) return CUDA_PREFIX + 0;
    return s;
  }

  /** The number of CUDA devices LibTorch sees (0 on a CPU build or without a GPU). */
  public static long cudaDeviceCount() {
    return torch.cuda_is_available() ? torch.cuda_device_count() : 0;
  }

  /** Every visible CUDA device, "cuda:0" .. "cuda:N-1" (empty without CUDA). */
  public static List<String> visibleCuda() {
    List<String> devices = new ArrayList<>();
    for (long i = 0, n = cudaDeviceCount(); i < n; i++) devices.add(CUDA_PREFIX + i);
    return devices;
  }

  /**
   * The canonical name of {@code device} after checking it exists here.
   *
   * @param what what goes to the device, for the message ("the model", "storage 3 (saved on
   *     cuda:1)")
   * @param remedy how to fix a device that does not exist here, for the message
   * @throws CheckpointException for an unknown name, or a CUDA device this machine does not have
   */
  public static String check(String device, String what, String remedy)
      throws CheckpointException {
    if (device == null || device.isBlank()) {
      throw new CheckpointException(Kind.DEVICE,
          what + ": no device given: use cpu, cuda or cuda:N");
    }
    String name = canonical(device);
    if (name.equals(CPU)) return CPU;
    int index = -1;
    if (name.startsWith(CUDA_PREFIX)) {
      try {
        index = Integer.parseInt(name.substring(CUDA_PREFIX.length()));
      } catch (NumberFormatException e) {
        index = -1;
      }
    }
    if (index < 0) {
      throw new CheckpointException(Kind.DEVICE, what + ": unknown device '" + printable(device)
          + "': ckpt4j places tensors on cpu, cuda or cuda:N");
    }
    long count = cudaDeviceCount();
    if (count == 0) {
      throw new CheckpointException(Kind.DEVICE,
          what + " would go to " + name + ", but CUDA is not available"
          + " here (no GPU, or a CPU-only LibTorch): " + remedy);
    }
    if (index >= count) {
      String visible = System.getenv(CUDA_VISIBLE_DEVICES);
      throw new CheckpointException(Kind.DEVICE,
          what + " would go to " + name + ", but this machine has "
          + count + " CUDA device(s), cuda:0 to cuda:" + (count - 1)
          + (visible == null ? "" : " (" + CUDA_VISIBLE_DEVICES + "=" + visible + ")") + ": "
          + remedy);
    }
    return name;
  }

  /** {@link #check} as a LibTorch device. */
  public static Device resolve(String device, String what, String remedy)
      throws CheckpointException {
    return new Device(check(device, what, remedy));
  }

  /**
   * The canonical device ({@code cpu}, {@code cuda:N}) a storage saved at {@code saved} goes to
   * under its map_location ({@code location}), checked to exist here. {@code key} names the
   * storage for the message, which says to pass a map_location.
   */
  public static String checkStorage(String location, String saved, String key)
      throws CheckpointException {
    return check(location, "storage " + key + " (saved on " + saved + ")",
        "pass map_location to load it elsewhere, e.g. LoadOptions.mapLocation(\"cpu\") or, per"
            + " device, LoadOptions.mapLocation(\"" + saved + "=cuda:0\")");
  }

  /** {@code text} safe for a one-line message: control characters escaped, long text cut. */
  private static String printable(String text) {
    String s = text.replaceAll("\\p{Cntrl}", "?");
    return s.length() > 40 ? s.substring(0, 40) + "..." : s;
  }
}
