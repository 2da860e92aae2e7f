package io.ckpt4j.container.safetensors;

import io.ckpt4j.CheckpointException;
import io.ckpt4j.CheckpointException.Kind;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.CharBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.WritableByteChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;

/**
 * Writes a {@code .safetensors} file laid out as the Python {@code safetensors} library writes
 * it: tensors sorted by dtype (largest first, in {@link SafetensorsDtype} order) and then by
 * name, data in that order with no gaps, the compact JSON header padded with spaces to a multiple
 * of 8 bytes, and {@code __metadata__} first when there is any. The library writes metadata keys
 * in hash order; this writer sorts them, so output is reproducible.
 *
 * <p>Tensor data streams from a {@link TensorBody} when the file is written, so no second copy
 * of a tensor is held.
 *
 * <pre>{@code
 * new SafetensorsWriter()
 *     .putMetadata("format", "pt")
 *     .add("weight", SafetensorsDtype.F32, new long[] {2, 3}, body)
 *     .write(path);
 * }</pre>
 */
public final class SafetensorsWriter {
  /** Header JSON is padded with spaces to a multiple of this. */
  static final int HEADER_ALIGNMENT = 8;

  private static final char[] HEX = "0123456789abcdef".toCharArray();

  /** Writes one tensor's bytes: exactly its byte length, little-endian, C order. */
  @FunctionalInterface
  public interface TensorBody {
    /** Writes the bytes to {@code out}; do not close it. */
    void writeTo(WritableByteChannel out) throws IOException;
  }

  private record Pending(String name, byte[] nameBytes, SafetensorsDtype dtype, long[] shape,
      long byteLength, TensorBody body) {}

  private final Map<String, String> metadata = new TreeMap<>(SafetensorsWriter::compareUtf8);
  private final List<Pending> tensors = new ArrayList<>();
  private final Set<String> names = new HashSet<>();

  /** Adds a {@code __metadata__} entry. */
  public SafetensorsWriter putMetadata(String key, String value) {
    utf8(key);
    utf8(value);
    metadata.put(key, Objects.requireNonNull(value, "value"));
    return this;
  }

  /**
   * Adds a tensor whose bytes {@code body} writes when the file is written.
   *
   * @throws IllegalArgumentException for a repeated or reserved name, a negative dimension, or a
   *     shape whose byte size overflows or is not whole bytes
   */
  public SafetensorsWriter add(String name, SafetensorsDtype dtype, long[] shape, TensorBody body) {
    Objects.requireNonNull(dtype, "dtype");
    Objects.requireNonNull(body, "body");
    byte[] nameBytes = utf8(name);
    if (name.equals(SafetensorsHeader.METADATA_KEY)) {
      throw new IllegalArgumentException("a tensor cannot be named " + name);
    }
    long numel = 1;
    for (long d : shape) {
      if (d < 0) {
        throw new IllegalArgumentException(
            "negative dimension in shape " + Arrays.toString(shape) + " of tensor " + name);
      }
      numel = Math.multiplyExact(numel, d);
    }
    long byteLength;
    try {
      byteLength = dtype.byteLength(numel);
    } catch (ArithmeticException e) {
      throw new IllegalArgumentException("tensor " + name + ": " + e.getMessage(), e);
    }
    if (!names.add(name)) {
      throw new IllegalArgumentException("tensor " + name + " is already added");
    }
    tensors.add(new Pending(name, nameBytes, dtype, shape.clone(), byteLength, body));
    return this;
  }

  /** Adds a tensor whose bytes are {@code data}'s remaining bytes (left unconsumed). */
  public SafetensorsWriter add(String name, SafetensorsDtype dtype, long[] shape, ByteBuffer data) {
    ByteBuffer bytes = data.duplicate();
    return add(name, dtype, shape, out -> {
      while (bytes.hasRemaining()) {
        out.write(bytes);
      }
    });
  }

  /** The tensors in the order the Python library writes them. */
  private List<Pending> ordered() {
    List<Pending> order = new ArrayList<>(tensors);
    order.sort(
        Comparator.comparing(Pending::dtype, Comparator.reverseOrder())
            .thenComparing(Pending::nameBytes, Arrays::compareUnsigned));
    return order;
  }

  /** The header bytes: compact JSON padded with spaces to a multiple of 8. */
  byte[] header() {
    StringBuilder json = new StringBuilder("{");
    if (!metadata.isEmpty()) {
      appendString(json, SafetensorsHeader.METADATA_KEY).append(":{");
      String separator = "";
      for (Map.Entry<String, String> e : metadata.entrySet()) {
        json.append(separator);
        appendString(json, e.getKey()).append(':');
        appendString(json, e.getValue());
        separator = ",";
      }
      json.append('}');
    }
    long offset = 0;
    String separator = metadata.isEmpty() ? "" : ",";
    for (Pending t : ordered()) {
      json.append(separator);
      appendString(json, t.name()).append(":{\"").append(SafetensorsHeader.DTYPE).append("\":\"")
          .append(t.dtype().name()).append("\",\"").append(SafetensorsHeader.SHAPE).append("\":[");
      for (int i = 0; i < t.shape().length; i++) {
        json.append(i == 0 ? "" : ",").append(t.shape()[i]);
      }
      long end = Math.addExact(offset, t.byteLength());
      json.append("],\"").append(SafetensorsHeader.DATA_OFFSETS).append("\":[").append(offset)
          .append(',').append(end).append("]}");
      offset = end;
      separator = ",";
    }
    json.append('}');
    byte[] bytes = json.toString().getBytes(StandardCharsets.UTF_8);
    int padded = (bytes.length + HEADER_ALIGNMENT - 1) / HEADER_ALIGNMENT * HEADER_ALIGNMENT;
    byte[] header = Arrays.copyOf(bytes, padded);
    Arrays.fill(header, bytes.length, padded, (byte) ' ');
    return header;
  }

  /** Writes the file, creating or truncating it. */
  public void write(Path file) throws CheckpointException {
    byte[] header = header();
    if (header.length > SafetensorsHeader.MAX_HEADER_BYTES) {
      throw new CheckpointException(Kind.LIMIT_EXCEEDED,
          "the header would be " + header.length + " bytes, more than the format's "
              + SafetensorsHeader.MAX_HEADER_BYTES + "-byte limit: split the tensors over several"
              + " files").at(location(file));
    }
    try (FileChannel channel =
        FileChannel.open(
            file,
            StandardOpenOption.CREATE,
            StandardOpenOption.TRUNCATE_EXISTING,
            StandardOpenOption.WRITE)) {
      ByteBuffer prefix =
          ByteBuffer.allocate(SafetensorsHeader.LENGTH_PREFIX_BYTES).order(ByteOrder.LITTLE_ENDIAN);
      prefix.putLong(0, header.length);
      writeFully(channel, prefix);
      writeFully(channel, ByteBuffer.wrap(header));
      for (Pending t : ordered()) {
        CountingChannel out = new CountingChannel(channel, t, file);
        t.body().writeTo(out);
        if (out.count != t.byteLength()) {
          throw new CheckpointException(Kind.INVALID_VALUE,
              "tensor " + t.name() + " needs " + t.byteLength() + " bytes but its body wrote "
                  + out.count).at(location(file));
        }
      }
    } catch (CheckpointException e) {
      throw e;
    } catch (IOException | RuntimeException e) {
      throw new CheckpointException(Kind.IO, "failed: " + e, e).at(location(file));
    }
  }

  /** Where errors about a file being written say they happened. */
  private static String location(Path file) {
    return "writing safetensors file " + file;
  }

  private static void writeFully(WritableByteChannel channel, ByteBuffer buffer)
      throws IOException {
    while (buffer.hasRemaining()) {
      channel.write(buffer);
    }
  }

  /** Passes one tensor's bytes through, refusing more than its byte length. */
  private static final class CountingChannel implements WritableByteChannel {
    private final WritableByteChannel target;
    private final Pending tensor;
    private final Path file;
    private long count;

    CountingChannel(WritableByteChannel target, Pending tensor, Path file) {
      this.target = target;
      this.tensor = tensor;
      this.file = file;
    }

    @Override
    public int write(ByteBuffer src) throws IOException {
      int n = src.remaining();
      if (n > tensor.byteLength() - count) {
        throw new CheckpointException(Kind.INVALID_VALUE,
            "tensor " + tensor.name() + " wrote more than its " + tensor.byteLength() + " bytes")
            .at(location(file));
      }
      writeFully(target, src);
      count += n;
      return n;
    }

    @Override
    public boolean isOpen() {
      return target.isOpen();
    }

    @Override
    public void close() {}
  }

  /** JSON string as serde_json writes it: short escapes, \\u00xx for other control characters. */
  private static StringBuilder appendString(StringBuilder out, String s) {
    out.append('"');
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '"' -> out.append("\\\"");
        case '\\' -> out.append("\\\\");
        case '\b' -> out.append("\\b");
        case '\f' -> out.append("\\f");
        case '\n' -> out.append("\\n");
        case '\r' -> out.append("\\r");
        case '\t' -> out.append("\\t");
        default -> {
          if (c < 0x20) {
            out.append("\\u00").append(HEX[c >> 4]).append(HEX[c & 0xF]);
          } else {
            out.append(c);
          }
        }
      }
    }
    return out.append('"');
  }

  /** UTF-8 bytes of {@code s}; refuses unpaired surrogates, which JSON from Rust cannot hold. */
  private static byte[] utf8(String s) {
    Objects.requireNonNull(s, "name");
    try {
      ByteBuffer b =
          StandardCharsets.UTF_8
              .newEncoder()
              .onMalformedInput(CodingErrorAction.REPORT)
              .onUnmappableCharacter(CodingErrorAction.REPORT)
              .encode(CharBuffer.wrap(s));
      byte[] bytes = new byte[b.remaining()];
      b.get(bytes);
      return bytes;
    } catch (CharacterCodingException e) {
      throw new IllegalArgumentException("not valid Unicode (unpaired surrogate): " + s, e);
    }
  }

  /** Orders strings by their UTF-8 bytes, as Rust compares strings. */
  private static int compareUtf8(String a, String b) {
    return Arrays.compareUnsigned(utf8(a), utf8(b));
  }
}
