package io.ckpt4j.tensor;

import io.ckpt4j.CheckpointException;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.global.torch;

/** Turns a location string from a file or a {@code map_location} into a LibTorch device, checked. */
public final class Devices {
  private static final String CPU = "cpu";
  private static final String CUDA = "cuda";

  private Devices() {}

  /** The canonical form of a location: "cpu", "cuda:N" ("cuda" means the current device 0). */
  public static String canonical(String location) {
    String s = location.trim();
    if (s.equals(CUDA)) return CUDA + ":0";
    return s;
  }

  /**
   * The LibTorch device for {@code location} ("cpu", "cuda", "cuda:N"), after checking that it
   * exists on this machine. {@code where} names the storage for the message.
   */
  public static Device resolve(String location, String saved, String where)
      throws CheckpointException {
    String s = canonical(location);
    if (s.equals(CPU)) return new Device(CPU);
    if (s.startsWith(CUDA + ":")) {
      int index;
      try {
        index = Integer.parseInt(s.substring(CUDA.length() + 1));
      } catch (NumberFormatException e) {
        throw new CheckpointException("unknown device '" + location + "' for " + where
            + ": use cpu, cuda or cuda:N");
      }
      if (!torch.cuda_is_available()) {
        throw new CheckpointException("storage " + where + " was saved on " + saved
            + " and would load on " + s + ", but CUDA is not available here: pass map_location"
            + " (LoadOptions.mapLocation(\"cpu\"), or --map-location cpu) to load it on the CPU");
      }
      long count = torch.cuda_device_count();
      if (index < 0 || index >= count) {
        throw new CheckpointException("storage " + where + " was saved on " + saved
            + " and would load on " + s + ", but this machine has " + count
            + " CUDA device(s): pass map_location, e.g. {\"" + saved + "\": \"cuda:0\"}");
      }
      return new Device(s);
    }
    throw new CheckpointException("storage " + where + " maps to location '" + location
        + "', which ckpt4j cannot place tensors on: use map_location cpu or cuda:N");
  }
}
