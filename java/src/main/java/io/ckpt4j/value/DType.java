package io.ckpt4j.value;

import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * The element types ckpt4j reads and writes, with every name a file may use for them.
 *
 * <p>{@link #pythonName()} is torch's name without {@code torch.} ({@code torch.float32} →
 * {@code float32}); {@link #storageClass()} is the legacy typed-storage class a pickle names
 * ({@code torch.FloatStorage}), or null where torch 2.x has none and writes an {@code
 * UntypedStorage} plus {@code _rebuild_tensor_v3} with the dtype instead; {@link #safetensorsCode()}
 * is the safetensors header's {@code dtype} string.
 */
public enum DType {
  FLOAT64("float64", 8, "DoubleStorage", "F64"),
  FLOAT32("float32", 4, "FloatStorage", "F32"),
  FLOAT16("float16", 2, "HalfStorage", "F16"),
  BFLOAT16("bfloat16", 2, "BFloat16Storage", "BF16"),
  COMPLEX128("complex128", 16, "ComplexDoubleStorage", "C128"),
  COMPLEX64("complex64", 8, "ComplexFloatStorage", "C64"),
  INT64("int64", 8, "LongStorage", "I64"),
  INT32("int32", 4, "IntStorage", "I32"),
  INT16("int16", 2, "ShortStorage", "I16"),
  INT8("int8", 1, "CharStorage", "I8"),
  UINT8("uint8", 1, "ByteStorage", "U8"),
  UINT16("uint16", 2, null, "U16"),
  UINT32("uint32", 4, null, "U32"),
  UINT64("uint64", 8, null, "U64"),
  BOOL("bool", 1, "BoolStorage", "BOOL"),
  FLOAT8_E4M3FN("float8_e4m3fn", 1, null, "F8_E4M3"),
  FLOAT8_E5M2("float8_e5m2", 1, null, "F8_E5M2");

  private static final Map<String, DType> BY_PYTHON_NAME = new HashMap<>();
  private static final Map<String, DType> BY_STORAGE_CLASS = new HashMap<>();
  private static final Map<String, DType> BY_SAFETENSORS_CODE = new HashMap<>();

  static {
    for (DType t : values()) {
      BY_PYTHON_NAME.put(t.pythonName, t);
      if (t.storageClass != null) BY_STORAGE_CLASS.put(t.storageClass, t);
      BY_SAFETENSORS_CODE.put(t.safetensorsCode, t);
    }
    // Aliases torch accepts for the same dtypes (torch.float is torch.float32, and so on).
    BY_PYTHON_NAME.put("float", FLOAT32);
    BY_PYTHON_NAME.put("double", FLOAT64);
    BY_PYTHON_NAME.put("half", FLOAT16);
    BY_PYTHON_NAME.put("cfloat", COMPLEX64);
    BY_PYTHON_NAME.put("cdouble", COMPLEX128);
    BY_PYTHON_NAME.put("long", INT64);
    BY_PYTHON_NAME.put("int", INT32);
    BY_PYTHON_NAME.put("short", INT16);
  }

  private final String pythonName;
  private final int itemSize;
  private final String storageClass;
  private final String safetensorsCode;

  DType(String pythonName, int itemSize, String storageClass, String safetensorsCode) {
    this.pythonName = pythonName;
    this.itemSize = itemSize;
    this.storageClass = storageClass;
    this.safetensorsCode = safetensorsCode;
  }

  /** torch's name without "torch.", e.g. {@code float32}. */
  public String pythonName() {
    return pythonName;
  }

  /** Bytes per element. */
  public int itemSize() {
    return itemSize;
  }

  /** The legacy typed-storage class name ({@code FloatStorage}), or null where none exists. */
  public String storageClass() {
    return storageClass;
  }

  /** The safetensors header code ({@code F32}). */
  public String safetensorsCode() {
    return safetensorsCode;
  }

  public static Optional<DType> fromPythonName(String name) {
    return Optional.ofNullable(BY_PYTHON_NAME.get(name));
  }

  /** The dtype of a legacy typed-storage class name such as {@code FloatStorage}. */
  public static Optional<DType> fromStorageClass(String name) {
    return Optional.ofNullable(BY_STORAGE_CLASS.get(name));
  }

  public static Optional<DType> fromSafetensorsCode(String code) {
    return Optional.ofNullable(BY_SAFETENSORS_CODE.get(code.toUpperCase(Locale.ROOT)));
  }

  @Override
  public String toString() {
    return pythonName;
  }
}
