package io.ckpt4j.layout.hf;

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
import io.ckpt4j.fs.AtomicFile;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.TreeSet;

/**
 * A shard index ({@code model.safetensors.index.json}, {@code pytorch_model.bin.index.json}):
 * {@code {"metadata": {"total_size": N}, "weight_map": {key: shard file name}}}, read as
 * transformers reads it and written as {@code save_pretrained} writes it
 * ({@code json.dumps(index, indent=2, sort_keys=True) + "\n"}).
 *
 * <p>Reading checks what transformers takes on trust: the file is a JSON object with a
 * {@code weight_map} object of strings; no key is named twice (Python's json keeps the last one
 * silently); every shard name is a relative path that stays inside the index's directory. The
 * {@code metadata} is kept as it is and never checked against the shards ({@code total_size}
 * counts whole storages, as huggingface_hub sizes them, not the tensors' own bytes).
 */
public final class ShardIndex {
  /** The index's top-level keys. */
  static final String METADATA = "metadata";
  static final String WEIGHT_MAP = "weight_map";
  static final String TOTAL_SIZE = "total_size";

  /** A shard index of a model with millions of tensors is a few hundred MB; refuse beyond. */
  private static final long MAX_INDEX_BYTES = 1L << 30;
  private static final int MAX_JSON_DEPTH = 64;
  private static final int MAX_QUOTED = 60;

  private static final ObjectMapper JSON = JsonMapper.builder(JsonFactory.builder()
          .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
          .streamReadConstraints(StreamReadConstraints.builder()
              .maxStringLength((int) Math.min(Integer.MAX_VALUE, MAX_INDEX_BYTES))
              .maxNameLength((int) Math.min(Integer.MAX_VALUE, MAX_INDEX_BYTES))
              .maxNestingDepth(MAX_JSON_DEPTH)
              .build())
          .build())
      .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
      .build();

  private final Path file;
  private final JsonNode metadata;
  private final Map<String, String> weightMap;

  private ShardIndex(Path file, JsonNode metadata, Map<String, String> weightMap) {
    this.file = file;
    this.metadata = metadata;
    this.weightMap = Collections.unmodifiableMap(weightMap);
  }

  /** Reads and checks the index {@code file}. */
  public static ShardIndex read(Path file) throws CheckpointException {
    byte[] bytes;
    try {
      long size = Files.size(file);
      if (size > MAX_INDEX_BYTES) {
        throw new CheckpointException(Kind.LIMIT_EXCEEDED,
            "shard index " + file + " is " + size + " bytes, more than"
            + " the " + MAX_INDEX_BYTES + " an index of any model needs: not a shard index");
      }
      bytes = Files.readAllBytes(file);
    } catch (NoSuchFileException e) {
      throw new CheckpointException(Kind.NOT_FOUND, "no such file: " + file, e);
    } catch (IOException e) {
      if (e instanceof CheckpointException c) throw c;
      throw new CheckpointException(Kind.IO, "cannot read shard index " + file + ": " + e, e);
    }
    String where = "shard index " + file;
    JsonNode root = parse(bytes, where);
    JsonNode map = root.get(WEIGHT_MAP);
    if (map == null || !map.isObject()) {
      throw new CheckpointException(Kind.MALFORMED_CONTAINER,
          where + " has no \"" + WEIGHT_MAP + "\" object"
          + (map == null ? "" : " (it is " + kind(map) + ")")
          + ": not a Hugging Face shard index ({\"metadata\": ..., \"weight_map\": {key: file}})");
    }
    Map<String, String> weightMap = new LinkedHashMap<>();
    for (Map.Entry<String, JsonNode> e : map.properties()) {
      if (!e.getValue().isTextual()) {
        throw new CheckpointException(Kind.MALFORMED_CONTAINER,
            where + ": weight_map maps '" + abbreviate(e.getKey())
            + "' to " + kind(e.getValue()) + ", not to a shard file name");
      }
      weightMap.put(e.getKey(), checkShardName(e.getValue().textValue(), where));
    }
    JsonNode metadata = root.get(METADATA);
    return new ShardIndex(file, metadata, weightMap);
  }

  private static JsonNode parse(byte[] bytes, String where) throws CheckpointException {
    try {
      // Jackson decodes the UTF-8 itself and refuses malformed bytes.
      JsonNode root = JSON.readTree(bytes);
      if (root == null || !root.isObject()) {
        throw new CheckpointException(Kind.MALFORMED_CONTAINER,
            where + " is not a JSON object: not a shard index");
      }
      return root;
    } catch (JsonProcessingException e) {
      throw new CheckpointException(Kind.MALFORMED_CONTAINER, where + " is not valid JSON ("
          + CheckpointException.firstLine(e) + ")", e);
    } catch (CheckpointException e) {
      throw e; // "not a JSON object" above: already says what is wrong (found by fuzzing)
    } catch (IOException e) {
      // The bytes are in memory: any other failure is the content's, e.g. bytes Jackson took
      // for UTF-32 that are no characters (CharConversionException; found by fuzzing).
      throw new CheckpointException(Kind.MALFORMED_CONTAINER, where + " is not valid JSON text ("
          + CheckpointException.firstLine(e) + ")", e);
    }
  }

  /** A shard name must be a relative path below the index's directory. */
  private static String checkShardName(String name, String where) throws CheckpointException {
    boolean bad = name.isEmpty() || name.indexOf('\0') >= 0 || name.startsWith("/")
        || name.startsWith("\\");
    for (String part : name.split("[/\\\\]", -1)) {
      if (part.equals("..")) bad = true;
    }
    if (!bad) {
      try {
        bad = Path.of(name).isAbsolute();
      } catch (java.nio.file.InvalidPathException e) {
        bad = true;
      }
    }
    if (bad) {
      throw new CheckpointException(Kind.MALFORMED_CONTAINER,
          where + " names shard file '" + abbreviate(name) + "', which"
          + " is not a file name inside the index's directory: refused");
    }
    return name;
  }

  /** The index file. */
  public Path file() {
    return file;
  }

  /** The directory the shard names are relative to (the index's). */
  public Path directory() {
    Path parent = file.toAbsolutePath().getParent();
    return parent == null ? file.toAbsolutePath() : parent;
  }

  /** {@code weight_map}: key → shard file name, in the file's order. */
  public Map<String, String> weightMap() {
    return weightMap;
  }

  /** {@code metadata}, as in the file (null when there is none). */
  public JsonNode metadata() {
    return metadata == null ? null : metadata.deepCopy();
  }

  /** {@code metadata.total_size}, when it is there and a whole number. */
  public OptionalLong totalSize() {
    JsonNode n = metadata == null ? null : metadata.get(TOTAL_SIZE);
    return n != null && n.isIntegralNumber() && n.canConvertToLong()
        ? OptionalLong.of(n.longValue()) : OptionalLong.empty();
  }

  /**
   * The shard files, each once, in transformers' order: {@code sorted(set(weight_map.values()))}
   * (Python sorts strings by code point).
   */
  public List<String> shardFiles() {
    TreeSet<String> files = new TreeSet<>(PythonJson::compareCodePoints);
    files.addAll(weightMap.values());
    return new ArrayList<>(files);
  }

  /** The path of shard {@code name} (one of {@link #shardFiles()}). */
  public Path resolve(String name) {
    return directory().resolve(name);
  }

  /**
   * Writes an index as {@code save_pretrained} does, atomically: {@code {"metadata":
   * {"total_size": totalSize}, "weight_map": weightMap}}, keys sorted, two-space indents, a final
   * newline.
   */
  public static void write(Path file, long totalSize, Map<String, String> weightMap,
      boolean fsync) throws CheckpointException {
    byte[] text = toJson(totalSize, weightMap).getBytes(StandardCharsets.US_ASCII);
    AtomicFile.write(file, fsync, temp -> {
      try {
        Files.write(temp, text);
      } catch (IOException e) {
        throw new CheckpointException(Kind.IO, "cannot write shard index " + file + ": " + e, e);
      }
    });
  }

  /** The text {@link #write} writes. */
  public static String toJson(long totalSize, Map<String, String> weightMap) {
    Map<String, Object> index = new LinkedHashMap<>();
    index.put(METADATA, Map.of(TOTAL_SIZE, totalSize));
    index.put(WEIGHT_MAP, weightMap);
    return PythonJson.dumps(index) + "\n";
  }

  private static String kind(JsonNode node) {
    return node.getNodeType().name().toLowerCase(java.util.Locale.ROOT);
  }

  private static String abbreviate(String text) {
    return text.length() <= MAX_QUOTED ? text : text.substring(0, MAX_QUOTED) + "...";
  }
}
