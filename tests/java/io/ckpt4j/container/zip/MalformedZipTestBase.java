package io.ckpt4j.container.zip;

import static io.ckpt4j.container.zip.RawZip.ascii;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ckpt4j.CheckpointException;
import io.ckpt4j.CheckpointException.Kind;
import io.ckpt4j.Refusals;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Shared by the malformed-archive tests: each hand-built archive must fail fast with a one-line
 * {@link CheckpointException} (never another exception, never an allocation driven by a length
 * field).
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
abstract class MalformedZipTestBase {
  @TempDir Path dir;

  Path write(byte[] bytes) throws Exception {
    Path file = Files.createTempFile(dir, "case", ".zip");
    Files.write(file, bytes);
    return file;
  }

  /**
   * Opens the bytes and reads every entry; checks the failure's kind, its message and that it
   * is located at the file.
   */
  CheckpointException refused(byte[] bytes, Kind kind, String expectedInMessage)
      throws Exception {
    Path file = write(bytes);
    CheckpointException e =
        Refusals.assertRefused(kind, () -> openAndReadAll(file), expectedInMessage);
    assertTrue(
        e.getMessage().contains(expectedInMessage),
        "message should mention '" + expectedInMessage + "': " + e.getMessage());
    assertEquals("zip file " + file, e.location().orElseThrow(), e.getMessage());
    assertTrue(e.getMessage().startsWith("zip file " + file + ": "), e.getMessage());
    return e;
  }

  static void openAndReadAll(Path file) throws CheckpointException {
    try (ZipArchive zip = ZipArchive.open(file)) {
      for (ZipEntry e : zip.entries()) {
        zip.read(e, 1 << 20);
      }
    }
  }

  static RawZip valid() {
    return new RawZip().add("a/data.pkl", ascii("pickle bytes")).add("a/data/0", new byte[64]);
  }

  static void putInt(byte[] bytes, int at, int value) {
    ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).putInt(at, value);
  }

  static void putLong(byte[] bytes, int at, long value) {
    ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).putLong(at, value);
  }

  static void assertMessage(Path file, Kind kind, String expected) {
    CheckpointException e = Refusals.assertRefused(kind, () -> openAndReadAll(file), expected);
    assertTrue(e.getMessage().contains(expected), e.getMessage());
  }
}
