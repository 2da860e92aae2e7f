package io.ckpt4j.tensor;

import io.ckpt4j.value.DType;
import java.util.EnumMap;
import java.util.Map;
import java.util.Optional;
import org.bytedeco.pytorch.global.torch.ScalarType;

/** LibTorch's scalar type of each {@link DType}: the one place the value model meets LibTorch's. */
public final class ScalarTypes {
  private static final Map<DType, ScalarType> BY_DTYPE = new EnumMap<>(DType.class);

  static {
    put(DType.FLOAT64, ScalarType.Double);
    put(DType.FLOAT32, ScalarType.Float);
    put(DType.FLOAT16, ScalarType.Half);
    put(DType.BFLOAT16, ScalarType.BFloat16);
    put(DType.COMPLEX128, ScalarType.ComplexDouble);
    put(DType.COMPLEX64, ScalarType.ComplexFloat);
    put(DType.INT64, ScalarType.Long);
    put(DType.INT32, ScalarType.Int);
    put(DType.INT16, ScalarType.Short);
    put(DType.INT8, ScalarType.Char);
    put(DType.UINT8, ScalarType.Byte);
    put(DType.UINT16, ScalarType.UInt16);
    put(DType.UINT32, ScalarType.UInt32);
    put(DType.UINT64, ScalarType.UInt64);
    put(DType.BOOL, ScalarType.Bool);
    put(DType.FLOAT8_E4M3FN, ScalarType.Float8_e4m3fn);
    put(DType.FLOAT8_E5M2, ScalarType.Float8_e5m2);
  }

  private ScalarTypes() {}

  private static void put(DType dtype, ScalarType type) {
    BY_DTYPE.put(dtype, type);
  }

  /** LibTorch's scalar type of {@code dtype}. */
  public static ScalarType of(DType dtype) {
    return BY_DTYPE.get(dtype);
  }

  /**
   * The dtype of a LibTorch scalar type. Compares the native value: enums JavaCPP returns from
   * native calls are fresh instances, so {@code ==} on them does not work.
   */
  public static Optional<DType> dtype(ScalarType type) {
    for (Map.Entry<DType, ScalarType> e : BY_DTYPE.entrySet()) {
      if (e.getValue().value == type.value) return Optional.of(e.getKey());
    }
    return Optional.empty();
  }
}
