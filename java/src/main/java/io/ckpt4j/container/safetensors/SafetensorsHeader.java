package io.ckpt4j.container.safetensors;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import io.ckpt4j.CheckpointException;
import io.ckpt4j.CheckpointException.Kind;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * The header of a {@code .safetensors} file, read and validated like the {@code safetensors} crate
 * does: an 8-byte little-endian header length N (at most 100,000,000), then N bytes of UTF-8 JSON
 * mapping tensor names to {@code {"dtype", "shape", "data_offsets": [begin, end]}} plus an
 * optional {@code "__metadata__"} map of strings, then the data.
 *
 * <p>Checks: known dtypes; non-negative integer shapes whose element count and byte size do not
 * overflow; byte size equal to {@code end - begin}; ranges that, in offset order, follow each other
 * with no gap or overlap from 0 and end exactly at the end of the file. Stricter than the crate:
 * a duplicated JSON key is refused (the crate keeps the last one, which lets two readers disagree).
 * Unknown fields inside a tensor's object are ignored, as the crate does.
 */
public final class SafetensorsHeader {
  /** The safetensors crate's MAX_HEADER_SIZE. */
  public static final long MAX_HEADER_BYTES = 100_000_000L;

  /** The u64 header length in front of the JSON. */
  public static final int LENGTH_PREFIX_BYTES = Long.BYTES;

  /** The header key that holds the string-to-string metadata instead of a tensor. */
  public static final String METADATA_KEY = "__metadata__";

  static final String DTYPE = "dtype";
  static final String SHAPE = "shape";
  static final String DATA_OFFSETS = "data_offsets";

  /** Longest name or string Jackson may read: anything that fits the header, as in the crate. */
  private static final int MAX_JSON_STRING = (int) MAX_HEADER_BYTES;

  /** Nesting is at most 3 deep in a valid header; deeper JSON is refused, never recursed into. */
  private static final int MAX_JSON_DEPTH = 64;

  /** Error messages quote at most this many characters of a value from the file. */
  private static final int MAX_QUOTED = 60;

  private static final ObjectMapper JSON =
      JsonMapper.builder(
              JsonFactory.builder()
                  .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
                  .streamReadConstraints(
                      StreamReadConstraints.builder()
                          .maxStringLength(MAX_JSON_STRING)
                          .maxNameLength(MAX_JSON_STRING)
                          .maxNestingDepth(MAX_JSON_DEPTH)
                          .build())
                  .build())
          .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
          .build();

  private final Path path;
  private final long headerLength;
  private final List<SafetensorsEntry> entries;
  private final Map<String, SafetensorsEntry> byName;
  private final Map<String, String> metadata;

  private SafetensorsHeader(
      Path path,
      long headerLength,
      List<SafetensorsEntry> entries,
      Map<String, SafetensorsEntry> byName,
      Map<String, String> metadata) {
    this.path = path;
    this.headerLength = headerLength;
    this.entries = entries;
    this.byName = byName;
    this.metadata = metadata;
  }

  /** Reads the header of {@code file}. */
  public static SafetensorsHeader read(Path file) throws CheckpointException {
    try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
      return read(channel, file);
    } catch (CheckpointException e) {
      throw e;
    } catch (IOException | UnsupportedOperationException | SecurityException e) {
      throw new CheckpointException(CheckpointException.ioKind(e), "cannot read it: " + e, e)
          .at(location(file));
    }
  }

  /**
   * Reads the header from an open channel (positional reads; the position is not used).
   *
   * @param file the file's name, for messages
   */
  public static SafetensorsHeader read(FileChannel channel, Path file) throws CheckpointException {
    try {
      return readHeader(channel, file);
    } catch (CheckpointException e) {
      throw e.at(location(file));
    }
  }

  /** Where errors about a safetensors file say they happened: "safetensors file PATH". */
  private static String location(Path file) {
    return "safetensors file " + file;
  }

  private static SafetensorsHeader readHeader(FileChannel channel, Path file)
      throws CheckpointException {
    long fileSize;
    try {
      fileSize = channel.size();
    } catch (IOException e) {
      throw new CheckpointException(Kind.IO, "cannot read it: " + e, e);
    }
    if (fileSize < LENGTH_PREFIX_BYTES) {
      throw new CheckpointException(Kind.TRUNCATED,
          fileSize + " bytes is too short for its 8-byte header length");
    }
    ByteBuffer prefix = readAt(channel, 0, LENGTH_PREFIX_BYTES);
    // Header: u64 little-endian length of the JSON that follows.
    long n = prefix.order(ByteOrder.LITTLE_ENDIAN).getLong(0);
    if (n < 0 || n > MAX_HEADER_BYTES) {
      throw new CheckpointException(Kind.MALFORMED_CONTAINER,
          "header length " + Long.toUnsignedString(n) + " is more than the "
              + MAX_HEADER_BYTES + "-byte limit of the safetensors format: not a safetensors"
              + " file, or a corrupt one");
    }
    if (n > fileSize - LENGTH_PREFIX_BYTES) {
      throw new CheckpointException(Kind.TRUNCATED,
          "header length " + n + " runs past the end of the " + fileSize
              + "-byte file: truncated or not a safetensors file");
    }
    ByteBuffer json = readAt(channel, LENGTH_PREFIX_BYTES, (int) n);
    JsonNode root = parse(json);
    long dataStart = LENGTH_PREFIX_BYTES + n;
    return build(file, root, n, dataStart, fileSize - dataStart);
  }

  private static JsonNode parse(ByteBuffer json) throws CheckpointException {
    String text;
    try {
      text =
          StandardCharsets.UTF_8
              .newDecoder()
              .onMalformedInput(CodingErrorAction.REPORT)
              .onUnmappableCharacter(CodingErrorAction.REPORT)
              .decode(json)
              .toString();
    } catch (CharacterCodingException e) {
      throw new CheckpointException(Kind.MALFORMED_CONTAINER, "header is not valid UTF-8", e);
    }
    try {
      JsonNode root = JSON.readTree(text);
      if (root == null || !root.isObject()) {
        throw new CheckpointException(Kind.MALFORMED_CONTAINER,
            "header is not a JSON object: not a safetensors file, or a corrupt one");
      }
      return root;
    } catch (JsonProcessingException e) {
      throw new CheckpointException(Kind.MALFORMED_CONTAINER,
          "header is not valid JSON (" + e.getOriginalMessage() + ")", e);
    }
  }

  private static SafetensorsHeader build(
      Path file, JsonNode root, long headerLength, long dataStart, long dataLength)
      throws CheckpointException {
    Map<String, String> metadata = new LinkedHashMap<>();
    List<Parsed> parsed = new ArrayList<>(root.size());
    for (Map.Entry<String, JsonNode> field : root.properties()) {
      if (field.getKey().equals(METADATA_KEY)) {
        readMetadata(field.getValue(), metadata);
      } else {
        parsed.add(readTensor(field.getKey(), field.getValue()));
      }
    }
    // Like the crate: the data order is the order of the offsets, whatever the JSON order.
    parsed.sort(Comparator.comparingLong((Parsed p) -> p.begin).thenComparingLong(p -> p.end));
    List<SafetensorsEntry> entries = new ArrayList<>(parsed.size());
    Map<String, SafetensorsEntry> byName = new HashMap<>(parsed.size() * 2);
    long expectedBegin = 0;
    for (Parsed p : parsed) {
      String tensor = "tensor '" + p.name + "'";
      if (p.begin != expectedBegin) {
        throw new CheckpointException(Kind.MALFORMED_CONTAINER,
            tensor + " starts at data offset " + p.begin + " but the previous tensor ends at "
                + expectedBegin + ": tensors must follow each other with no gap or overlap");
      }
      if (p.end < p.begin) {
        throw new CheckpointException(Kind.MALFORMED_CONTAINER,
            tensor + " has data_offsets [" + p.begin + ", " + p.end + "] that end before they begin");
      }
      long bytes;
      try {
        long numel = 1;
        for (long d : p.shape) {
          numel = Math.multiplyExact(numel, d);
        }
        bytes = p.dtype.byteLength(numel);
      } catch (ArithmeticException e) {
        throw new CheckpointException(Kind.INVALID_TENSOR,
            tensor + ": shape " + Arrays.toString(p.shape) + " of " + p.dtype
                + " overflows or is not a whole number of bytes (" + e.getMessage() + ")", e);
      }
      if (bytes != p.end - p.begin) {
        throw new CheckpointException(Kind.INVALID_TENSOR,
            tensor + ": shape " + Arrays.toString(p.shape) + " of " + p.dtype + " needs "
                + bytes + " bytes but data_offsets [" + p.begin + ", " + p.end + "] hold "
                + (p.end - p.begin));
      }
      expectedBegin = p.end;
      SafetensorsEntry entry =
          new SafetensorsEntry(p.name, p.dtype, p.shape, dataStart + p.begin, dataStart + p.end);
      entries.add(entry);
      byName.put(p.name, entry);
    }
    if (expectedBegin != dataLength) {
      throw new CheckpointException(
          expectedBegin > dataLength ? Kind.TRUNCATED : Kind.MALFORMED_CONTAINER,
          "tensors cover " + expectedBegin + " data bytes but the file has "
              + dataLength + " after the header: "
              + (expectedBegin > dataLength ? "truncated file" : "unaccounted trailing bytes"));
    }
    return new SafetensorsHeader(
        file, headerLength, Collections.unmodifiableList(entries),
        Collections.unmodifiableMap(byName), Collections.unmodifiableMap(metadata));
  }

  /** A tensor's header fields, before the offsets are checked against each other. */
  private static final class Parsed {
    final String name;
    final SafetensorsDtype dtype;
    final long[] shape;
    final long begin;
    final long end;

    Parsed(String name, SafetensorsDtype dtype, long[] shape, long begin, long end) {
      this.name = name;
      this.dtype = dtype;
      this.shape = shape;
      this.begin = begin;
      this.end = end;
    }
  }

  private static Parsed readTensor(String name, JsonNode info) throws CheckpointException {
    String tensor = "tensor '" + name + "'";
    if (!info.isObject()) {
      throw new CheckpointException(Kind.MALFORMED_CONTAINER,
          tensor + " is described by " + kind(info) + ", not an object");
    }
    JsonNode dtypeNode = info.get(DTYPE);
    if (dtypeNode == null || !dtypeNode.isTextual()) {
      throw new CheckpointException(Kind.MALFORMED_CONTAINER, tensor + " has no \"dtype\" string");
    }
    Optional<SafetensorsDtype> dtype = SafetensorsDtype.of(dtypeNode.textValue());
    if (dtype.isEmpty()) {
      throw new CheckpointException(Kind.UNSUPPORTED_FORMAT,
          tensor + " has unknown dtype '" + abbreviate(dtypeNode.textValue())
              + "'; known: " + Arrays.toString(SafetensorsDtype.values()));
    }
    long[] shape = readIntegers(info.get(SHAPE), SHAPE, -1, tensor);
    long[] offsets = readIntegers(info.get(DATA_OFFSETS), DATA_OFFSETS, 2, tensor);
    return new Parsed(name, dtype.get(), shape, offsets[0], offsets[1]);
  }

  /** An array of non-negative integers that fit a long; of {@code length} items unless -1. */
  private static long[] readIntegers(JsonNode node, String field, int length, String tensor)
      throws CheckpointException {
    if (node == null || !node.isArray()) {
      throw new CheckpointException(Kind.MALFORMED_CONTAINER,
          tensor + " has no \"" + field + "\" array");
    }
    if (length >= 0 && node.size() != length) {
      throw new CheckpointException(Kind.MALFORMED_CONTAINER,
          tensor + ": \"" + field + "\" has " + node.size() + " items, expected " + length);
    }
    long[] values = new long[node.size()];
    for (int i = 0; i < values.length; i++) {
      JsonNode item = node.get(i);
      if (!item.isIntegralNumber() || !item.canConvertToLong() || item.longValue() < 0) {
        throw new CheckpointException(Kind.MALFORMED_CONTAINER,
            tensor + ": \"" + field + "\" item " + i + " is " + abbreviate(item.toString())
                + ", not a non-negative integer below 2^63");
      }
      values[i] = item.longValue();
    }
    return values;
  }

  private static void readMetadata(JsonNode node, Map<String, String> out)
      throws CheckpointException {
    if (node.isNull()) {
      return;
    }
    if (!node.isObject()) {
      throw new CheckpointException(Kind.MALFORMED_CONTAINER,
          "\"" + METADATA_KEY + "\" is " + kind(node) + ", not an object of strings");
    }
    for (Map.Entry<String, JsonNode> field : node.properties()) {
      if (!field.getValue().isTextual()) {
        throw new CheckpointException(Kind.MALFORMED_CONTAINER,
            "metadata value for '" + abbreviate(field.getKey()) + "' is "
                + kind(field.getValue()) + ", not a string");
      }
      out.put(field.getKey(), field.getValue().textValue());
    }
  }

  private static String kind(JsonNode node) {
    return node.getNodeType().name().toLowerCase(Locale.ROOT);
  }

  private static String abbreviate(String text) {
    return text.length() <= MAX_QUOTED ? text : text.substring(0, MAX_QUOTED) + "...";
  }

  private static ByteBuffer readAt(FileChannel channel, long position, int length)
      throws CheckpointException {
    ByteBuffer buffer = ByteBuffer.allocate(length);
    long at = position;
    try {
      while (buffer.hasRemaining()) {
        int read = channel.read(buffer, at);
        if (read < 0) {
          throw new CheckpointException(Kind.TRUNCATED, "unexpected end of file at byte " + at);
        }
        at += read;
      }
    } catch (CheckpointException e) {
      throw e;
    } catch (IOException e) {
      throw new CheckpointException(Kind.IO, "cannot read it at byte " + at + ": " + e, e);
    }
    return buffer.flip();
  }

  /** The file this header was read from. */
  public Path path() {
    return path;
  }

  /** N, the length in bytes of the JSON header (including its padding). */
  public long headerLength() {
    return headerLength;
  }

  /** Absolute file offset where the data section begins: 8 + N. */
  public long dataStart() {
    return LENGTH_PREFIX_BYTES + headerLength;
  }

  /** The tensors in the order their data lies in the file. */
  public List<SafetensorsEntry> entries() {
    return entries;
  }

  /** The tensor named {@code name}. */
  public Optional<SafetensorsEntry> find(String name) {
    return Optional.ofNullable(byName.get(name));
  }

  /** The {@code __metadata__} map, in header order; empty if absent. */
  public Map<String, String> metadata() {
    return metadata;
  }
}
