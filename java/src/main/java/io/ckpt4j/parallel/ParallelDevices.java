package io.ckpt4j.parallel;

import io.ckpt4j.CheckpointException;
import io.ckpt4j.tensor.Devices;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.bytedeco.pytorch.global.torch;

/**
 * The devices DataParallel runs on: names checked and made canonical, the visible CUDA devices.
 *
 * <p>Names are what {@code torch.device} accepts for the two kinds DataParallel uses: {@code cpu},
 * {@code cuda} (the first CUDA device) and {@code cuda:N}. CUDA devices are counted by LibTorch,
 * which sees what the CUDA runtime shows, so {@code CUDA_VISIBLE_DEVICES} is honoured as in
 * Python: with {@code CUDA_VISIBLE_DEVICES=2,3} there are two devices, {@code cuda:0} and
 * {@code cuda:1}.
 */
final class ParallelDevices {
  static final String CPU = "cpu";
  static final String CUDA = "cuda";

  private static final Pattern NAME = Pattern.compile("(cpu|cuda)(?::(\\d{1,9}))?");

  private ParallelDevices() {}

  /**
   * The canonical form of a device name: {@code cpu}, or {@code cuda:N} ({@code cuda} alone is
   * {@code cuda:0}, as {@code device_ids=None} starts at the first device).
   *
   * @throws IllegalArgumentException for anything else (an empty name, {@code tpu}, {@code cpu:1})
   */
  static String canonical(String name) {
    if (name == null) throw new IllegalArgumentException("a device name is null");
    Matcher m = NAME.matcher(name.trim());
    if (!m.matches() || (m.group(1).equals(CPU) && m.group(2) != null
        && Integer.parseInt(m.group(2)) != 0)) {
      throw new IllegalArgumentException("unknown device '" + name + "': DataParallel runs on "
          + "cpu, cuda or cuda:N (several CPU replicas: list cpu several times)");
    }
    if (m.group(1).equals(CPU)) return CPU;
    return CUDA + ":" + (m.group(2) == null ? 0 : Integer.parseInt(m.group(2)));
  }

  /** Python's default {@code device_ids}: every visible CUDA device, or the CPU when none is. */
  static List<String> visible() {
    List<String> cuda = Devices.visibleCuda();
    return cuda.isEmpty() ? List.of(CPU) : List.copyOf(cuda);
  }

  /**
   * Checks that a canonical device exists on this machine.
   *
   * @throws CheckpointException for a CUDA device beyond the visible ones, or without CUDA
   */
  static void checkExists(String device) throws CheckpointException {
    Devices.check(device, "DataParallel device " + device, "use cpu, or a visible CUDA device");
  }
}
