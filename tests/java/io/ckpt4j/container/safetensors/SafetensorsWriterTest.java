package io.ckpt4j.container.safetensors;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.ckpt4j.CheckpointException;
import io.ckpt4j.CheckpointException.Kind;
import io.ckpt4j.Refusals;
import io.ckpt4j.container.PythonCases;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The writer reproduces the Python library's files byte for byte, and the library reads what it
 * writes ({@code safetensors.torch.load_file} gives the same tensors).
 */
class SafetensorsWriterTest {
  @TempDir Path dir;

  static Stream<JsonNode> files() {
    return PythonCases.list("safetensors").stream();
  }

  /** Rewrites {@code source}'s tensors (shuffled, so the writer must sort) into {@code target}. */
  static void rewrite(Path source, Path target) throws Exception {
    SafetensorsHeader header = SafetensorsHeader.read(source);
    SafetensorsWriter writer = new SafetensorsWriter();
    header.metadata().forEach(writer::putMetadata);
    try (FileChannel channel = FileChannel.open(source)) {
      List<SafetensorsEntry> entries = new ArrayList<>(header.entries());
      java.util.Collections.reverse(entries);
      for (SafetensorsEntry e : entries) {
        writer.add(e.name(), e.dtype(), e.shape(), out -> {
          long done = 0;
          while (done < e.byteLength()) {
            done += channel.transferTo(e.begin() + done, e.byteLength() - done, out);
          }
        });
      }
      writer.write(target);
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("files")
  void rewriteMatchesTheLibrary(JsonNode c) throws Exception {
    Path source = PythonCases.generated(c.get("file").asText());
    Path target = dir.resolve("out.safetensors");
    rewrite(source, target);
    if (c.get("rewrite_exact").asBoolean()) {
      assertArrayEquals(Files.readAllBytes(source), Files.readAllBytes(target));
    } else {
      // Metadata in another order: the header differs, the tensors do not.
      SafetensorsHeader a = SafetensorsHeader.read(source);
      SafetensorsHeader b = SafetensorsHeader.read(target);
      assertEquals(a.metadata(), b.metadata());
      assertEquals(a.headerLength(), b.headerLength());
      assertEquals(a.entries(), b.entries());
    }
  }

  @Test
  @Timeout(600)
  void theLibraryReadsWhatJavaWrites() throws Exception {
    List<Map<String, Object>> items = new ArrayList<>();
    for (JsonNode c : PythonCases.list("safetensors")) {
      String name = c.get("file").asText();
      Path source = PythonCases.generated(name);
      rewrite(source, dir.resolve(name));
      Map<String, Object> item = new LinkedHashMap<>();
      item.put("type", "safetensors");
      item.put("file", name);
      item.put("source", source.toAbsolutePath().toString());
      item.put("metadata", SafetensorsHeader.read(source).metadata());
      items.add(item);
    }
    PythonCases.writeJson(dir.resolve("java_manifest.json"), items);
    String report = PythonCases.checkWithPython(dir);
    assertTrue(report.contains("ok st_dtypes.safetensors"), report);
  }

  @Test
  void bodyWritingTheWrongLengthFails() {
    SafetensorsWriter w = new SafetensorsWriter()
        .add("t", SafetensorsDtype.F32, new long[] {2}, out -> out.write(ByteBuffer.allocate(4)));
    Path shorter = dir.resolve("short.safetensors");
    CheckpointException e = Refusals.assertRefused(Kind.INVALID_VALUE, () -> w.write(shorter));
    assertTrue(e.getMessage().contains("needs 8 bytes but its body wrote 4"), e.getMessage());
    assertEquals("writing safetensors file " + shorter, e.location().orElseThrow());
    SafetensorsWriter longer = new SafetensorsWriter()
        .add("t", SafetensorsDtype.U8, new long[] {2}, out -> out.write(ByteBuffer.allocate(3)));
    e = Refusals.assertRefused(Kind.INVALID_VALUE,
        () -> longer.write(dir.resolve("long.safetensors")));
    assertTrue(e.getMessage().contains("wrote more than its 2 bytes"), e.getMessage());
  }

  @Test
  void aHeaderPastTheFormatsLimitIsRefusedAndSplittingTheTensorsWorks() throws Exception {
    // 100,000 empty tensors with 1000-character names: a header of about 106 MB (the limit: 100).
    String pad = "t".repeat(1000);
    int n = 100_000;
    SafetensorsWriter all = new SafetensorsWriter();
    List<SafetensorsWriter> halves = List.of(new SafetensorsWriter(), new SafetensorsWriter());
    for (int i = 0; i < n; i++) {
      all.add(pad + i, SafetensorsDtype.U8, new long[] {0}, ByteBuffer.allocate(0));
      halves.get(i % 2).add(pad + i, SafetensorsDtype.U8, new long[] {0}, ByteBuffer.allocate(0));
    }
    Path whole = dir.resolve("whole.safetensors");
    CheckpointException e = Refusals.assertRefused(Kind.LIMIT_EXCEEDED, () -> all.write(whole));
    assertTrue(e.getMessage().endsWith("-byte limit: split the tensors over several files"),
        e.getMessage());
    assertFalse(Files.exists(whole));
    // The hint, applied: half of the tensors in each of two files.
    for (int part = 0; part < 2; part++) {
      Path file = dir.resolve("part" + part + ".safetensors");
      halves.get(part).write(file);
      assertEquals(n / 2, SafetensorsHeader.read(file).entries().size());
    }
  }

  @Test
  void misuseIsRefused() {
    SafetensorsWriter w = new SafetensorsWriter().add("t", SafetensorsDtype.U8, new long[] {1}, ByteBuffer.allocate(1));
    assertThrows(IllegalArgumentException.class,
        () -> w.add("t", SafetensorsDtype.U8, new long[] {1}, ByteBuffer.allocate(1)));
    assertThrows(IllegalArgumentException.class,
        () -> w.add("__metadata__", SafetensorsDtype.U8, new long[] {1}, ByteBuffer.allocate(1)));
    assertThrows(IllegalArgumentException.class,
        () -> w.add("neg", SafetensorsDtype.U8, new long[] {-1}, ByteBuffer.allocate(1)));
    assertThrows(IllegalArgumentException.class,
        () -> w.add("half", SafetensorsDtype.F4, new long[] {3}, ByteBuffer.allocate(2)));
    assertThrows(ArithmeticException.class,
        () -> w.add("huge", SafetensorsDtype.F64, new long[] {1L << 40, 1L << 40}, ByteBuffer.allocate(1)));
    assertThrows(IllegalArgumentException.class,
        () -> w.add("bad\uD800", SafetensorsDtype.U8, new long[] {1}, ByteBuffer.allocate(1)));
  }

  @Test
  void writtenFileReadsBack() throws Exception {
    Path file = dir.resolve("small.safetensors");
    new SafetensorsWriter()
        .putMetadata("format", "pt")
        .add("scalar", SafetensorsDtype.F64, new long[0], ByteBuffer.allocate(8).putDouble(0, 2.5))
        .add("empty", SafetensorsDtype.I32, new long[] {0, 4}, ByteBuffer.allocate(0))
        .add("f4", SafetensorsDtype.F4, new long[] {2, 2}, ByteBuffer.wrap(new byte[] {1, 2}))
        .write(file);
    SafetensorsHeader h = SafetensorsHeader.read(file);
    assertEquals(Map.of("format", "pt"), h.metadata());
    assertEquals(List.of("scalar", "empty", "f4"), h.entries().stream().map(SafetensorsEntry::name).toList());
    assertEquals(0, h.headerLength() % 8);
    assertEquals(h.dataStart() + 10, Files.size(file));
  }
}
