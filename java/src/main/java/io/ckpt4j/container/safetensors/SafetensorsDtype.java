package io.ckpt4j.container.safetensors;

import java.util.HashMap;
import java.util.Map;
import java.util.Optional;

/**
 * The element types a safetensors header may name, as the {@code safetensors} 0.8 crate defines
 * them. The constant names are the strings in the header ({@code "F32"}, {@code "F8_E4M3"}).
 *
 * <p>The declaration order is the crate's: its writer sorts tensors by this order, largest
 * first, then by name, and {@link SafetensorsWriter} does the same.
 */
public enum SafetensorsDtype {
  /** Boolean, one byte per element. */
  BOOL(8),
  /** FP4 E2M1 (packed two per byte). */
  F4(4),
  /** FP6 E2M3 (packed). */
  F6_E2M3(6),
  /** FP6 E3M2 (packed). */
  F6_E3M2(6),
  /** Unsigned 8-bit integer. */
  U8(8),
  /** Signed 8-bit integer. */
  I8(8),
  /** FP8 E5M2. */
  F8_E5M2(8),
  /** FP8 E4M3 (torch.float8_e4m3fn). */
  F8_E4M3(8),
  /** FP8 E8M0, an exponent-only scale type (torch.float8_e8m0fnu). */
  F8_E8M0(8),
  /** FP8 E4M3, finite, unsigned zero (torch.float8_e4m3fnuz). */
  F8_E4M3FNUZ(8),
  /** FP8 E5M2, finite, unsigned zero (torch.float8_e5m2fnuz). */
  F8_E5M2FNUZ(8),
  /** Signed 16-bit integer. */
  I16(16),
  /** Unsigned 16-bit integer. */
  U16(16),
  /** IEEE half precision. */
  F16(16),
  /** Brain floating point. */
  BF16(16),
  /** Signed 32-bit integer. */
  I32(32),
  /** Unsigned 32-bit integer. */
  U32(32),
  /** IEEE single precision. */
  F32(32),
  /** Complex of two F32. */
  C64(64),
  /** IEEE double precision. */
  F64(64),
  /** Signed 64-bit integer. */
  I64(64),
  /** Unsigned 64-bit integer. */
  U64(64);

  private static final Map<String, SafetensorsDtype> BY_NAME = new HashMap<>();

  static {
    for (SafetensorsDtype d : values()) {
      BY_NAME.put(d.name(), d);
    }
  }

  private final int bits;

  SafetensorsDtype(int bits) {
    this.bits = bits;
  }

  /** Bits per element; 4 and 6 for the packed sub-byte types. */
  public int bits() {
    return bits;
  }

  /** The dtype named exactly {@code name} in a header. */
  public static Optional<SafetensorsDtype> of(String name) {
    return Optional.ofNullable(BY_NAME.get(name));
  }

  /**
   * Bytes taken by {@code numel} elements: {@code numel * bits / 8}.
   *
   * @throws ArithmeticException if that overflows a long or is not a whole number of bytes
   */
  public long byteLength(long numel) {
    long totalBits = Math.multiplyExact(numel, (long) bits);
    if (totalBits % Byte.SIZE != 0) {
      throw new ArithmeticException(
          numel + " elements of " + name() + " take " + totalBits + " bits, not whole bytes");
    }
    return totalBits / Byte.SIZE;
  }
}
