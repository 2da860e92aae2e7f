package io.ckpt4j.container.zip;

import static io.ckpt4j.container.zip.RawZip.ascii;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ckpt4j.CheckpointException;
import io.ckpt4j.CheckpointException.Kind;
import io.ckpt4j.Refusals;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The writer against the reader; Python's view of the output is in {@link ZipWriterInteropTest}. */
class ZipWriterTest {
  @TempDir Path dir;

  private static byte[] pattern(int size, int seed) {
    byte[] b = new byte[size];
    for (int i = 0; i < size; i++) {
      b[i] = (byte) (i * 31 + seed);
    }
    return b;
  }

  @ParameterizedTest(name = "alignment {0}, zip64 {1}")
  @CsvSource({"64,false", "64,true", "1,false", "1,true", "4096,false", "4096,true", "8,false"})
  void entriesRoundTripAligned(int alignment, boolean zip64) throws Exception {
    Path file = dir.resolve("out.zip");
    List<String> names = List.of("archive/data.pkl", "archive/data/0", "archive/data/1",
        "archive/version", "archive/ünïcode", "archive/empty");
    int[] sizes = {300, 4096, 17, 2, 5, 0};
    try (ZipWriter w = ZipWriter.create(file, alignment, zip64)) {
      for (int i = 0; i < names.size(); i++) {
        w.writeEntry(names.get(i), ByteBuffer.wrap(pattern(sizes[i], i)));
      }
      for (ZipEntry e : w.entries()) {
        assertEquals(0, e.dataOffset() % alignment, e.name());
      }
    }
    try (ZipArchive zip = ZipArchive.open(file)) {
      assertEquals(zip64, zip.isZip64());
      assertEquals(names.size(), zip.entries().size());
      for (int i = 0; i < names.size(); i++) {
        ZipEntry e = zip.entries().get(i);
        assertEquals(names.get(i), e.name());
        assertEquals(0, e.dataOffset() % alignment, e.name());
        assertTrue(e.isStored());
        assertArrayEquals(pattern(sizes[i], i), ZipArchivePythonTest.bytes(zip.read(e, 1 << 20)));
        zip.verifyCrc(e);
      }
      TorchZip torch = TorchZip.inspect(zip);
      assertEquals(ZipKind.TORCH_SAVE, torch.kind());
      assertEquals("archive", torch.root());
    }
  }

  @Test
  void streamingBodyWritesInChunks() throws Exception {
    Path file = dir.resolve("chunks.zip");
    byte[] data = pattern(1 << 20, 7);
    try (ZipWriter w = ZipWriter.create(file)) {
      w.writeEntry("a/data/0", data.length, out -> {
        for (int at = 0; at < data.length; at += 10_000) {
          ByteBuffer chunk = ByteBuffer.allocateDirect(Math.min(10_000, data.length - at));
          chunk.put(data, at, chunk.remaining()).flip();
          out.write(chunk);
        }
      });
    }
    try (ZipArchive zip = ZipArchive.open(file)) {
      ZipEntry e = zip.entries().get(0);
      assertEquals(RawZip.crc(data), e.crc32());
      assertArrayEquals(data, ZipArchivePythonTest.bytes(zip.read(e, data.length)));
    }
  }

  @Test
  void bodyWritingTooMuchFailsAndLeavesNoDirectory() throws Exception {
    Path file = dir.resolve("long.zip");
    ZipWriter w = ZipWriter.create(file);
    CheckpointException e = Refusals.assertRefused(Kind.INVALID_VALUE,
        () -> w.writeEntry("a/x", 4, out -> out.write(ByteBuffer.allocate(5))));
    assertTrue(e.getMessage().contains("more than its declared 4 bytes"), e.getMessage());
    assertEquals("writing zip file " + file, e.location().orElseThrow());
    assertThrows(IllegalStateException.class, () -> w.writeEntry("a/y", ByteBuffer.allocate(1)));
    w.close();
    Refusals.assertRefused(Kind.TRUNCATED, () -> ZipArchive.open(file));
  }

  @Test
  void bodyWritingTooLittleFails() throws Exception {
    try (ZipWriter w = ZipWriter.create(dir.resolve("short.zip"))) {
      CheckpointException e = Refusals.assertRefused(Kind.INVALID_VALUE,
          () -> w.writeEntry("a/x", 10, out -> out.write(ByteBuffer.allocate(3))));
      assertTrue(e.getMessage().contains("declared 10 bytes but its body wrote 3"), e.getMessage());
    }
  }

  @Test
  void bodyThrowingIsWrapped() throws Exception {
    try (ZipWriter w = ZipWriter.create(dir.resolve("throw.zip"))) {
      CheckpointException e = Refusals.assertRefused(Kind.IO,
          () -> w.writeEntry("a/x", 10, out -> {
            throw new java.io.IOException("device lost");
          }));
      assertTrue(e.getMessage().contains("device lost"), e.getMessage());
    }
  }

  @Test
  void misuseIsRefused() throws Exception {
    Path file = dir.resolve("misuse.zip");
    try (ZipWriter w = ZipWriter.create(file)) {
      w.writeEntry("a/x", ByteBuffer.wrap(ascii("x")));
      assertThrows(IllegalArgumentException.class, () -> w.writeEntry("a/x", ByteBuffer.allocate(1)));
      assertThrows(IllegalArgumentException.class, () -> w.writeEntry("", ByteBuffer.allocate(1)));
      assertThrows(IllegalArgumentException.class, () -> w.writeEntry("a/n", -1, out -> {}));
      w.finish();
      assertThrows(IllegalStateException.class, () -> w.writeEntry("a/z", ByteBuffer.allocate(1)));
    }
    assertThrows(IllegalArgumentException.class, () -> ZipWriter.create(file, 48));
    assertThrows(IllegalArgumentException.class, () -> ZipWriter.create(file, 8192));
  }

  @Test
  void manyEntriesGetZip64EndRecords() throws Exception {
    Path file = dir.resolve("many.zip");
    int count = 70_000;
    try (ZipWriter w = ZipWriter.create(file, 1)) {
      for (int i = 0; i < count; i++) {
        w.writeEntry("m/data/" + i, ByteBuffer.wrap(new byte[] {(byte) i}));
      }
    }
    try (ZipArchive zip = ZipArchive.open(file)) {
      assertTrue(zip.isZip64());
      assertEquals(count, zip.entries().size());
      assertEquals("m/data/69999", zip.entries().get(count - 1).name());
    }
  }

  @Test
  void smallArchiveIsPlainZip() throws Exception {
    Path file = dir.resolve("plain.zip");
    try (ZipWriter w = ZipWriter.create(file)) {
      w.writeEntry("a/x", ByteBuffer.wrap(ascii("x")));
    }
    try (ZipArchive zip = ZipArchive.open(file)) {
      assertFalse(zip.isZip64());
    }
    byte[] bytes = Files.readAllBytes(file);
    assertEquals(0x50, bytes[0]);
  }
}
