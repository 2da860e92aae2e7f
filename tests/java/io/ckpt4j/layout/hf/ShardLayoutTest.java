package io.ckpt4j.layout.hf;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.ckpt4j.CheckpointException;
import io.ckpt4j.TestData;
import java.math.BigInteger;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The layout's Python-facing text, against what tests/python/make_shards.py computed with
 * transformers' own functions: {@code max_shard_size} strings as {@code convert_file_size_to_int}
 * reads them, and the index as {@code json.dumps(index, indent=2, sort_keys=True) + "\n"} writes
 * it, byte for byte.
 */
class ShardLayoutTest {
  @Test
  void maxShardSizesReadAsTransformersReadsThem() {
    JsonNode sizes = TestData.manifest("shards").get("sizes");
    assertTrue(sizes.size() >= 10);
    for (Map.Entry<String, JsonNode> e : sizes.properties()) {
      String text = e.getKey();
      JsonNode python = e.getValue();
      boolean fits = python.isIntegralNumber()
          && python.bigIntegerValue().signum() > 0
          && python.bigIntegerValue().bitLength() < Long.SIZE;
      if (fits) {
        long bytes = assertDoesNotThrow(text);
        assertEquals(python.bigIntegerValue(), BigInteger.valueOf(bytes), text);
      } else {
        // Python raises (no unit, not an int), or gives a size no shard can have (<= 0, > 2^63)
        CheckpointException refused = assertThrows(CheckpointException.class,
            () -> ShardSize.parse(text), text + " -> " + python);
        assertFalse(refused.getMessage().contains("\n"), refused.getMessage());
      }
    }
  }

  private static long assertDoesNotThrow(String text) {
    try {
      return ShardSize.parse(text);
    } catch (CheckpointException e) {
      throw new AssertionError(text + ": " + e.getMessage(), e);
    }
  }

  @Test
  void theIndexIsWrittenAsPythonsJsonDumpsWritesIt() {
    JsonNode sample = TestData.manifest("shards").get("index_json");
    Map<String, String> weightMap = new LinkedHashMap<>();
    for (Map.Entry<String, JsonNode> e : sample.get("weight_map").properties()) {
      weightMap.put(e.getKey(), e.getValue().asText());
    }
    assertEquals(sample.get("text").asText(),
        ShardIndex.toJson(sample.get("total_size").asLong(), weightMap));
  }
}
