package io.ckpt4j.container.zip;

import static io.ckpt4j.container.zip.RawZip.ascii;

import io.ckpt4j.CheckpointException.Kind;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** Zip64 extra fields and end records with missing, short, absurd or conflicting values. */
class Zip64MalformedTest extends MalformedZipTestBase {
  @Test
  void zip64SentinelWithoutZip64Extra() throws Exception {
    RawZip zip = valid();
    zip.entries.get(0).centralSize = 0xFFFF_FFFFL;
    zip.entries.get(0).flags = 8;
    refused(zip.build(), Kind.MALFORMED_CONTAINER, "no zip64 extra field");
  }

  @Test
  void zip64ExtraTooShort() throws Exception {
    RawZip zip = valid();
    RawZip.Entry e = zip.entries.get(0);
    e.flags = 8;
    e.centralSize = 0xFFFF_FFFFL;
    e.centralCompressedSize = 0xFFFF_FFFFL;
    e.centralExtra = RawZip.zip64Extra(12); // two sizes needed, one given
    refused(zip.build(), Kind.MALFORMED_CONTAINER, "too short");
  }

  @Test
  void zip64ExtraWithAbsurdSize() throws Exception {
    RawZip zip = valid();
    RawZip.Entry e = zip.entries.get(0);
    e.flags = 8;
    e.centralSize = 0xFFFF_FFFFL;
    e.centralCompressedSize = 0xFFFF_FFFFL;
    e.centralExtra = RawZip.zip64Extra(-2L, -2L); // 2^64 - 2
    refused(zip.build(), Kind.MALFORMED_CONTAINER, "above 2^63");
  }

  @Test
  void zip64ExtraWithHugeButPositiveSize() throws Exception {
    RawZip zip = valid();
    RawZip.Entry e = zip.entries.get(0);
    e.flags = 8;
    e.centralSize = 0xFFFF_FFFFL;
    e.centralCompressedSize = 0xFFFF_FFFFL;
    e.centralExtra = RawZip.zip64Extra(1L << 62, 1L << 62);
    refused(zip.build(), Kind.MALFORMED_CONTAINER, "central directory");
  }

  /** A forced-zip64 archive: its end records are patched below. */
  private byte[] zip64Archive() throws Exception {
    Path file = dir.resolve("zip64-base.zip");
    try (ZipWriter w = ZipWriter.create(file, 64, true)) {
      w.writeEntry("a/data.pkl", ByteBuffer.wrap(ascii("pickle")));
    }
    return Files.readAllBytes(file);
  }

  // Offsets from the end of a forced-zip64 archive without comment: EOCD (22 bytes), locator
  // (20), zip64 end record (56).
  private static final int EOCD_FROM_END = 22;
  private static final int LOCATOR_FROM_END = EOCD_FROM_END + 20;
  private static final int RECORD_FROM_END = LOCATOR_FROM_END + 56;

  @Test
  void zip64RecordWithAbsurdEntryCount() throws Exception {
    byte[] b = zip64Archive();
    putLong(b, b.length - RECORD_FROM_END + 24, 1L << 40);
    putLong(b, b.length - RECORD_FROM_END + 32, 1L << 40);
    refused(b, Kind.MALFORMED_CONTAINER, "entries");
  }

  @Test
  void zip64RecordWithCountAbove2To63() throws Exception {
    byte[] b = zip64Archive();
    putLong(b, b.length - RECORD_FROM_END + 24, -1L);
    putLong(b, b.length - RECORD_FROM_END + 32, -1L);
    refused(b, Kind.MALFORMED_CONTAINER, "above 2^63");
  }

  @Test
  void zip64RecordWithAbsurdDirectoryOffset() throws Exception {
    byte[] b = zip64Archive();
    putLong(b, b.length - RECORD_FROM_END + 48, 1L << 62);
    refused(b, Kind.MALFORMED_CONTAINER, "central directory");
  }

  @Test
  void zip64RecordWithAbsurdDirectorySize() throws Exception {
    byte[] b = zip64Archive();
    putLong(b, b.length - RECORD_FROM_END + 40, Long.MAX_VALUE);
    refused(b, Kind.MALFORMED_CONTAINER, "");
  }

  @Test
  void zip64RecordWithExtensibleData() throws Exception {
    byte[] b = zip64Archive();
    putLong(b, b.length - RECORD_FROM_END + 4, 1000);
    refused(b, Kind.UNSUPPORTED_FORMAT, "extensible");
  }

  @Test
  void zip64LocatorPointingElsewhere() throws Exception {
    byte[] b = zip64Archive();
    putLong(b, b.length - LOCATOR_FROM_END + 8, 0);
    refused(b, Kind.MALFORMED_CONTAINER, "locator");
  }

  @Test
  void zip64RecordDisagreeingWithTheEndRecord() throws Exception {
    byte[] b = zip64Archive();
    // EOCD total entries: a real value (not the sentinel) that differs from the zip64 record's.
    ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN)
        .putShort(b.length - EOCD_FROM_END + 8, (short) 7)
        .putShort(b.length - EOCD_FROM_END + 10, (short) 7);
    refused(b, Kind.MALFORMED_CONTAINER, "conflicting");
  }

  @Test
  void zip64RecordMissingWhereTheLocatorPoints() throws Exception {
    byte[] b = zip64Archive();
    putInt(b, b.length - RECORD_FROM_END, 0x12345678);
    refused(b, Kind.MALFORMED_CONTAINER, "zip64");
  }
}
