package io.ckpt4j.layout.pt2;

import java.util.List;

/**
 * One input of an AOTInductor model, as the checks Inductor generated into the model's wrapper
 * source describe it ({@code check_input_<i>}; the compiled library runs them only when the
 * environment variable {@code AOTI_RUNTIME_CHECK_INPUTS} is set).
 *
 * @param index the position in the flat input list
 * @param name the graph's name for it ({@code arg9_1})
 * @param dtype torch's dtype name ({@code float32}), null when the source does not check it
 * @param dims the sizes, dimension by dimension; the rank is their count
 * @param contiguousStrides whether the compiled code expects a row-major contiguous tensor (it
 *     checks the strides of one)
 * @param deviceType the device type it expects: {@link #CPU} or {@link #CUDA}; -1 if unchecked
 */
public record AotiInput(int index, String name, String dtype, List<AotiDim> dims,
    boolean contiguousStrides, int deviceType) {
  /** c10's DeviceType of the CPU. */
  public static final int CPU = 0;
  /** c10's DeviceType of CUDA. */
  public static final int CUDA = 1;

  public AotiInput {
    dims = List.copyOf(dims);
  }

  /** The device type's name: {@code cpu}, {@code cuda}, or {@code device type N}. */
  public String deviceName() {
    return deviceTypeName(deviceType);
  }

  /** {@code cpu}, {@code cuda}, or {@code device type N}. */
  public static String deviceTypeName(int type) {
    return switch (type) {
      case CPU -> "cpu";
      case CUDA -> "cuda";
      default -> "device type " + type;
    };
  }

  /** {@code arg9_1: float32[[2, 8], 3, 16, 16]}. */
  @Override
  public String toString() {
    return name + ": " + (dtype == null ? "?" : dtype) + dims;
  }
}
