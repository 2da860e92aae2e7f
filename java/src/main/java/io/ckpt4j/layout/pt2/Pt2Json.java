package io.ckpt4j.layout.pt2;

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
import java.util.Locale;

/**
 * The JSON records of a PT2 archive (payload configs, serialized programs), parsed strictly —
 * a duplicate key, trailing text, nesting past {@value #MAX_DEPTH} levels are refused — with
 * accessors that refuse a missing field or one of the wrong type, naming the record and field.
 */
final class Pt2Json {
  /** The deepest nesting read: a program's graph JSON nests about a dozen levels. */
  static final int MAX_DEPTH = 256;

  private static final ObjectMapper JSON = JsonMapper.builder(JsonFactory.builder()
          .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
          .streamReadConstraints(StreamReadConstraints.builder()
              .maxStringLength(Integer.MAX_VALUE)
              .maxNestingDepth(MAX_DEPTH)
              .build())
          .build())
      .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
      .build();

  private Pt2Json() {}

  /** The JSON object in {@code bytes} (UTF-8), read from record {@code where}. */
  static JsonNode parseObject(ByteBuffer bytes, String where) throws CheckpointException {
    byte[] array = new byte[bytes.remaining()];
    bytes.duplicate().get(array);
    JsonNode root;
    try {
      root = JSON.readTree(array);
    } catch (JsonProcessingException e) {
      throw new CheckpointException(Kind.MALFORMED_CONTAINER, where + " is not valid JSON ("
          + CheckpointException.firstLine(e) + "): corrupt PT2 archive", e);
    } catch (IOException e) {
      throw new CheckpointException(Kind.IO, "cannot read " + where + ": " + e, e);
    }
    if (root == null || !root.isObject()) {
      throw new CheckpointException(Kind.MALFORMED_CONTAINER,
          where + " is not a JSON object: corrupt PT2 archive");
    }
    return root;
  }

  /** {@code node[field]}, which must be a JSON object. */
  static JsonNode object(JsonNode node, String field, String where) throws CheckpointException {
    JsonNode value = require(node, field, where);
    if (!value.isObject()) throw wrongType(value, field, "an object", where);
    return value;
  }

  /** {@code node[field]}, which must be a JSON array. */
  static JsonNode array(JsonNode node, String field, String where) throws CheckpointException {
    JsonNode value = require(node, field, where);
    if (!value.isArray()) throw wrongType(value, field, "an array", where);
    return value;
  }

  /** {@code node[field]}, which must be a string. */
  static String text(JsonNode node, String field, String where) throws CheckpointException {
    JsonNode value = require(node, field, where);
    if (!value.isTextual()) throw wrongType(value, field, "a string", where);
    return value.textValue();
  }

  /** {@code node[field]}, which must be true or false. */
  static boolean bool(JsonNode node, String field, String where) throws CheckpointException {
    JsonNode value = require(node, field, where);
    if (!value.isBoolean()) throw wrongType(value, field, "true or false", where);
    return value.booleanValue();
  }

  /** {@code node[field]}, which must be a whole number that fits a long. */
  static long integer(JsonNode node, String field, String where) throws CheckpointException {
    JsonNode value = require(node, field, where);
    if (!value.isIntegralNumber() || !value.canConvertToLong()) {
      throw wrongType(value, field, "a whole number", where);
    }
    return value.longValue();
  }

  /** {@code node[field]}: a string, or null when absent or JSON null. */
  static String optionalText(JsonNode node, String field, String where)
      throws CheckpointException {
    JsonNode value = node.get(field);
    if (value == null || value.isNull()) return null;
    if (!value.isTextual()) throw wrongType(value, field, "a string", where);
    return value.textValue();
  }

  private static JsonNode require(JsonNode node, String field, String where)
      throws CheckpointException {
    JsonNode value = node.get(field);
    if (value == null) {
      throw new CheckpointException(Kind.MALFORMED_CONTAINER,
          where + " has no field '" + field + "': corrupt PT2 archive");
    }
    return value;
  }

  private static CheckpointException wrongType(JsonNode value, String field, String expected,
      String where) {
    return new CheckpointException(Kind.MALFORMED_CONTAINER, where + ": field '" + field
        + "' is " + value.getNodeType().name().toLowerCase(Locale.ROOT) + ", not " + expected
        + ": corrupt PT2 archive");
  }
}
