package io.ckpt4j.parallel;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * The arguments of Python's {@code nn.DataParallel(module, device_ids, output_device, dim)}.
 * Immutable; each method returns a changed copy.
 *
 * <pre>{@code
 * DataParallelOptions.defaults()                 // every visible CUDA device (the CPU without one)
 *     .deviceIds("cuda:0", "cuda:1")             // device_ids=[0, 1]
 *     .outputDevice("cuda:1")                    // output_device=1 (default: device_ids[0])
 *     .dim(0)                                    // the batch dimension inputs are split along
 * }</pre>
 *
 * <p>A device may be listed more than once: {@code deviceIds("cpu", "cpu", "cpu")} runs three CPU
 * replicas, which exercises scatter, replicate, parallel apply and gather without a GPU.
 */
public final class DataParallelOptions {
  private final List<String> deviceIds;
  private final String outputDevice;
  private final long dim;

  private DataParallelOptions(List<String> deviceIds, String outputDevice, long dim) {
    this.deviceIds = deviceIds;
    this.outputDevice = outputDevice;
    this.dim = dim;
  }

  /** {@code device_ids=None, output_device=None, dim=0}. */
  public static DataParallelOptions defaults() {
    return new DataParallelOptions(null, null, 0);
  }

  /**
   * {@code device_ids}: the devices replicas run on, in order; the first also holds the wrapped
   * model. Names: {@code cpu}, {@code cuda}, {@code cuda:N}.
   *
   * @throws IllegalArgumentException for an empty list or an unknown device name
   */
  public DataParallelOptions deviceIds(List<String> deviceIds) {
    Objects.requireNonNull(deviceIds, "deviceIds");
    if (deviceIds.isEmpty()) {
      throw new IllegalArgumentException("device_ids is empty: name at least one device (cpu,"
          + " cuda:N), or leave device_ids unset for every visible CUDA device");
    }
    List<String> canonical = new ArrayList<>(deviceIds.size());
    for (String id : deviceIds) canonical.add(ParallelDevices.canonical(id));
    return new DataParallelOptions(List.copyOf(canonical), outputDevice, dim);
  }

  /** {@code device_ids} from names; see {@link #deviceIds(List)}. */
  public DataParallelOptions deviceIds(String... deviceIds) {
    return deviceIds(List.of(deviceIds));
  }

  /**
   * {@code output_device}: where outputs are gathered (default: the first of the device ids).
   *
   * @throws IllegalArgumentException for an unknown device name
   */
  public DataParallelOptions outputDevice(String outputDevice) {
    return new DataParallelOptions(deviceIds, ParallelDevices.canonical(outputDevice), dim);
  }

  /** {@code dim}: the dimension inputs are scattered along and outputs gathered along. */
  public DataParallelOptions dim(long dim) {
    return new DataParallelOptions(deviceIds, outputDevice, dim);
  }

  /** The device ids as set, or null for the default (every visible CUDA device). */
  public List<String> deviceIds() {
    return deviceIds;
  }

  /** The output device as set, or null for the default (the first device id). */
  public String outputDevice() {
    return outputDevice;
  }

  /** The scatter / gather dimension. */
  public long dim() {
    return dim;
  }
}
