package io.ckpt4j.container.safetensors;

import java.util.Arrays;
import java.util.Objects;

/**
 * One tensor of a safetensors file: its name, element type, shape, and the absolute byte range of
 * its little-endian, C-ordered data in the file.
 */
public final class SafetensorsEntry {
  private final String name;
  private final SafetensorsDtype dtype;
  private final long[] shape;
  private final long begin;
  private final long end;

  SafetensorsEntry(String name, SafetensorsDtype dtype, long[] shape, long begin, long end) {
    this.name = name;
    this.dtype = dtype;
    this.shape = shape.clone();
    this.begin = begin;
    this.end = end;
  }

  /** The tensor's name (its key in the header). */
  public String name() {
    return name;
  }

  /** The element type. */
  public SafetensorsDtype dtype() {
    return dtype;
  }

  /** The shape; empty for a scalar. A copy. */
  public long[] shape() {
    return shape.clone();
  }

  /** The number of dimensions. */
  public int rank() {
    return shape.length;
  }

  /** The number of elements (checked not to overflow when the header was read). */
  public long numel() {
    long n = 1;
    for (long d : shape) {
      n *= d;
    }
    return n;
  }

  /** Absolute file offset of the first data byte. */
  public long begin() {
    return begin;
  }

  /** Absolute file offset one past the last data byte. */
  public long end() {
    return end;
  }

  /** Bytes of data. */
  public long byteLength() {
    return end - begin;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof SafetensorsEntry
        && ((SafetensorsEntry) o).name.equals(name)
        && ((SafetensorsEntry) o).dtype == dtype
        && Arrays.equals(((SafetensorsEntry) o).shape, shape)
        && ((SafetensorsEntry) o).begin == begin
        && ((SafetensorsEntry) o).end == end;
  }

  @Override
  public int hashCode() {
    return Objects.hash(name, dtype, Arrays.hashCode(shape), begin, end);
  }

  @Override
  public String toString() {
    return "SafetensorsEntry[" + name + ", " + dtype + ", " + Arrays.toString(shape) + ", bytes "
        + begin + ".." + end + "]";
  }
}
