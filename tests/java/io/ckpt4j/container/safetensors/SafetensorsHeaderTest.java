package io.ckpt4j.container.safetensors;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.ckpt4j.CheckpointException;
import io.ckpt4j.CheckpointException.Kind;
import io.ckpt4j.Refusals;
import io.ckpt4j.container.PythonCases;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** The header reader against Python's view of files the safetensors library wrote or judged. */
class SafetensorsHeaderTest {
  @TempDir Path dir;

  static Stream<JsonNode> files() {
    return PythonCases.list("safetensors").stream();
  }

  static Stream<JsonNode> malformed() {
    return PythonCases.list("safetensors_malformed").stream();
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("files")
  void entriesMatchPython(JsonNode expected) throws Exception {
    Path file = PythonCases.generated(expected.get("file").asText());
    SafetensorsHeader header = SafetensorsHeader.read(file);
    assertEquals(expected.get("header_length").asLong(), header.headerLength());
    assertEquals(8 + header.headerLength(), header.dataStart());
    Map<String, String> metadata = new LinkedHashMap<>();
    expected.get("metadata").properties().forEach(e -> metadata.put(e.getKey(), e.getValue().asText()));
    assertEquals(metadata, header.metadata());
    JsonNode entries = expected.get("entries");
    assertEquals(entries.size(), header.entries().size());
    try (FileChannel channel = FileChannel.open(file)) {
      for (int i = 0; i < entries.size(); i++) {
        JsonNode want = entries.get(i);
        SafetensorsEntry got = header.entries().get(i);
        String name = want.get("name").asText();
        assertEquals(name, got.name());
        assertEquals(want.get("dtype").asText(), got.dtype().name(), name);
        long[] shape = new long[want.get("shape").size()];
        for (int d = 0; d < shape.length; d++) {
          shape[d] = want.get("shape").get(d).asLong();
        }
        assertArrayEquals(shape, got.shape(), name);
        assertEquals(want.get("begin").asLong(), got.begin(), name);
        assertEquals(want.get("end").asLong(), got.end(), name);
        assertEquals(got, header.find(name).orElseThrow());
        ByteBuffer data = ByteBuffer.allocate((int) got.byteLength());
        channel.read(data, got.begin());
        assertEquals(want.get("sha256").asText(), sha256(data.array()), name);
      }
    }
  }

  /** Whatever the safetensors library refuses is refused here; what it accepts is accepted. */
  @ParameterizedTest(name = "{0}")
  @MethodSource("malformed")
  @Timeout(30)
  void verdictMatchesPython(JsonNode c) throws Exception {
    Path file = PythonCases.generated(c.get("file").asText());
    boolean accept = c.get("python_accepts").asBoolean() && !c.get("java_stricter").asBoolean();
    if (accept) {
      SafetensorsHeader.read(file);
    } else {
      CheckpointException e = Refusals.assertRefused(Kind.valueOf(c.get("java_kind").asText()),
          () -> SafetensorsHeader.read(file), "Python says: " + c.get("python_error").asText());
      assertEquals("safetensors file " + file, e.location().orElseThrow());
    }
  }

  @Test
  void duplicateKeysAreRefusedEvenThoughTheLibraryKeepsTheLast() throws Exception {
    Path file = PythonCases.generated("st_malformed/duplicate_key_same.safetensors");
    CheckpointException e =
        Refusals.assertRefused(Kind.MALFORMED_CONTAINER, () -> SafetensorsHeader.read(file));
    assertTrue(e.getMessage().contains("Duplicate field"), e.getMessage());
  }

  @Test
  void messagesNameTheTensor() throws Exception {
    Path file = PythonCases.generated("st_malformed/wrong_byte_count.safetensors");
    CheckpointException e =
        Refusals.assertRefused(Kind.INVALID_TENSOR, () -> SafetensorsHeader.read(file));
    assertTrue(e.getMessage().contains("tensor 't'"), e.getMessage());
    assertTrue(e.getMessage().contains("needs 8 bytes"), e.getMessage());
  }

  @Test
  void everyTruncationIsRefused() throws Exception {
    byte[] whole = Files.readAllBytes(PythonCases.generated("st_meta1.safetensors"));
    Path file = dir.resolve("cut.safetensors");
    for (int length = 0; length < whole.length; length++) {
      Files.write(file, java.util.Arrays.copyOf(whole, length));
      Refusals.assertRefused(Kind.TRUNCATED, () -> SafetensorsHeader.read(file), "length " + length);
    }
  }

  @Test
  void headerLengthDoesNotDriveAllocation() throws Exception {
    // Claims a 99 MB header in a 16-byte file: refused before any buffer of that size.
    ByteBuffer b = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN);
    b.putLong(99_000_000L).put("{}      ".getBytes(StandardCharsets.US_ASCII));
    Path file = dir.resolve("liar.safetensors");
    Files.write(file, b.array());
    CheckpointException e =
        Refusals.assertRefused(Kind.TRUNCATED, () -> SafetensorsHeader.read(file));
    assertTrue(e.getMessage().contains("runs past the end"), e.getMessage());
  }

  static String sha256(byte[] data) throws Exception {
    return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data));
  }
}
