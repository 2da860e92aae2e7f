package io.ckpt4j.layout.pt2;

import java.util.Map;
import java.util.Optional;

/**
 * The element types of torch.export's serialized schema ({@code torch._export.serde.schema.
 * ScalarType}, an IntEnum), by their codes, as torch's Python names ({@code float32}).
 */
public final class ExportScalarType {
  private static final Map<Integer, String> NAMES = Map.ofEntries(
      Map.entry(1, "uint8"), Map.entry(2, "int8"), Map.entry(3, "int16"),
      Map.entry(4, "int32"), Map.entry(5, "int64"), Map.entry(6, "float16"),
      Map.entry(7, "float32"), Map.entry(8, "float64"), Map.entry(9, "complex32"),
      Map.entry(10, "complex64"), Map.entry(11, "complex128"), Map.entry(12, "bool"),
      Map.entry(13, "bfloat16"), Map.entry(28, "uint16"), Map.entry(29, "float8_e4m3fn"),
      Map.entry(30, "float8_e5m2"), Map.entry(31, "float8_e4m3fnuz"),
      Map.entry(32, "float8_e5m2fnuz"), Map.entry(33, "float8_e8m0fnu"),
      Map.entry(34, "uint32"), Map.entry(35, "uint64"));

  private ExportScalarType() {}

  /** torch's name for schema code {@code code} (empty for UNKNOWN = 0 and codes the schema lacks). */
  public static Optional<String> pythonName(long code) {
    return code < Integer.MIN_VALUE || code > Integer.MAX_VALUE ? Optional.empty()
        : Optional.ofNullable(NAMES.get((int) code));
  }
}
