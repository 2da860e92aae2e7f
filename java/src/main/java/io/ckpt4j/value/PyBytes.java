package io.ckpt4j.value;

import java.nio.ByteBuffer;
import java.util.Arrays;

/**
 * Python {@code bytes} (and {@code bytearray}) as an immutable value: equal to another
 * {@code PyBytes} with the same content, so it works as a map key; ordered as Python orders
 * bytes (unsigned, lexicographic).
 */
public final class PyBytes implements Comparable<PyBytes> {
  /** {@code b''}. */
  public static final PyBytes EMPTY = new PyBytes(new byte[0]);

  private static final int HEX_PREVIEW_BYTES = 32;

  private final byte[] data;
  private int hash;
  private boolean hashed;

  private PyBytes(byte[] data) {
    this.data = data;
  }

  /** A {@code PyBytes} holding a copy of {@code data}. */
  public static PyBytes of(byte[] data) {
    return data.length == 0 ? EMPTY : new PyBytes(data.clone());
  }

  /** Takes ownership of {@code data}: the caller must not change it afterwards. */
  public static PyBytes wrap(byte[] data) {
    return data.length == 0 ? EMPTY : new PyBytes(data);
  }

  /** A fresh copy of the bytes. */
  public byte[] toArray() {
    return data.clone();
  }

  /** The number of bytes. */
  public int length() {
    return data.length;
  }

  /** The byte at {@code index}, 0-based. */
  public byte byteAt(int index) {
    return data[index];
  }

  /** A read-only view of the bytes, positioned at 0. */
  public ByteBuffer asReadOnlyBuffer() {
    return ByteBuffer.wrap(data).asReadOnlyBuffer();
  }

  /** The backing array, for the pickle writer, which promises not to change it. */
  public byte[] array() {
    return data;
  }

  @Override
  public boolean equals(Object o) {
    return o == this || (o instanceof PyBytes && Arrays.equals(data, ((PyBytes) o).data));
  }

  /** Python's bytes order: unsigned byte by byte, a prefix first. */
  @Override
  public int compareTo(PyBytes other) {
    return Arrays.compareUnsigned(data, other.data);
  }

  @Override
  public int hashCode() {
    if (!hashed) {
      hash = Arrays.hashCode(data);
      hashed = true;
    }
    return hash;
  }

  /** A short Python-like rendering, {@code b'\x00ab'}, cut after a few bytes. */
  @Override
  public String toString() {
    StringBuilder sb = new StringBuilder("b'");
    int shown = Math.min(data.length, HEX_PREVIEW_BYTES);
    for (int i = 0; i < shown; i++) {
      int b = data[i] & 0xff;
      if (b >= 0x20 && b < 0x7f && b != '\'' && b != '\\') {
        sb.append((char) b);
      } else {
        sb.append(String.format("\\x%02x", b));
      }
    }
    sb.append('\'');
    if (shown < data.length) {
      sb.append("...(").append(data.length).append(" bytes)");
    }
    return sb.toString();
  }
}
