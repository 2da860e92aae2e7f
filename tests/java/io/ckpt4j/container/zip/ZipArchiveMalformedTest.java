package io.ckpt4j.container.zip;

import static io.ckpt4j.container.zip.RawZip.ascii;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ckpt4j.CheckpointException;
import io.ckpt4j.CheckpointException.Kind;
import io.ckpt4j.Refusals;
import io.ckpt4j.container.PythonCases;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Truncated, corrupted and inconsistent end records, central directories and local headers. */
class ZipArchiveMalformedTest extends MalformedZipTestBase {
  @Test
  void validRawZipOpens() throws Exception {
    try (ZipArchive zip = ZipArchive.open(write(valid().build()))) {
      assertEquals(2, zip.entries().size());
      assertEquals("pickle bytes", new String(ZipArchivePythonTest.bytes(zip.read(zip.entries().get(0), 100)), "UTF-8"));
    }
  }

  @Test
  void aMissingFileIsNotFound() {
    Path missing = dir.resolve("missing.zip");
    CheckpointException e =
        Refusals.assertRefused(Kind.NOT_FOUND, () -> ZipArchive.open(missing));
    assertEquals("zip file " + missing, e.location().orElseThrow());
  }

  @Test
  void everyTruncationOfAValidZipIsRefused() throws Exception {
    byte[] whole = valid().build();
    for (int length = 0; length < whole.length; length++) {
      Path file = write(Arrays.copyOf(whole, length));
      Refusals.assertRefused(cutKind(length), () -> openAndReadAll(file), "length " + length);
      Files.delete(file);
    }
  }

  @Test
  void everyTruncationOfATorchSaveFileIsRefused() throws Exception {
    byte[] whole = Files.readAllBytes(PythonCases.generated("torch_save.pt"));
    Path file = dir.resolve("truncated.pt");
    for (int length = 0; length < whole.length; length++) {
      Files.write(file, Arrays.copyOf(whole, length));
      Refusals.assertRefused(cutKind(length), () -> openAndReadAll(file), "length " + length);
    }
  }

  @Test
  void everyTruncationOfAZip64FileIsRefused() throws Exception {
    Path source = dir.resolve("zip64.zip");
    try (ZipWriter w = ZipWriter.create(source, 64, true)) {
      w.writeEntry("a/data.pkl", ByteBuffer.wrap(ascii("pickle")));
      w.writeEntry("a/data/0", ByteBuffer.allocate(100));
    }
    byte[] whole = Files.readAllBytes(source);
    Path file = dir.resolve("truncated.zip");
    for (int length = 0; length < whole.length; length++) {
      Files.write(file, Arrays.copyOf(whole, length));
      Refusals.assertRefused(cutKind(length), () -> openAndReadAll(file), "length " + length);
    }
  }

  /** A zip cut to {@code length} bytes: too short to be one, or a cut-off zip. */
  private static Kind cutKind(int length) {
    return length < Integer.BYTES ? Kind.NOT_A_CHECKPOINT : Kind.TRUNCATED;
  }

  /**
   * What random byte flips may turn a zip into: a damaged one, or one that asks for a feature
   * ckpt4j refuses (a flag bit that says encrypted, another compression method, a second disk)
   * or passes a limit (an entry size over the 1 MiB the test reads).
   */
  private static final Set<Kind> FLIPPED = EnumSet.of(Kind.TRUNCATED, Kind.MALFORMED_CONTAINER,
      Kind.NOT_A_CHECKPOINT, Kind.UNSUPPORTED_FORMAT, Kind.LIMIT_EXCEEDED);

  @Test
  void randomByteCorruptionNeverEscapesAsAnotherException() throws Exception {
    Path source = dir.resolve("source.zip");
    try (ZipWriter w = ZipWriter.create(source, 64, true)) {
      w.writeEntry("a/data.pkl", ByteBuffer.wrap(ascii("pickle")));
      w.writeEntry("a/data/0", ByteBuffer.allocate(100));
    }
    byte[] zip64 = Files.readAllBytes(source);
    byte[] plain = valid().build();
    byte[] deflated = new RawZip().add(RawZip.Entry.deflated("a/d", new byte[5000])).build();
    Random random = new Random(20240229);
    Path file = dir.resolve("corrupt.zip");
    for (byte[] original : new byte[][] {zip64, plain, deflated}) {
      for (int round = 0; round < 3000; round++) {
        byte[] bytes = original.clone();
        int flips = 1 + random.nextInt(4);
        for (int i = 0; i < flips; i++) {
          bytes[random.nextInt(bytes.length)] = (byte) random.nextInt(256);
        }
        Files.write(file, bytes);
        try {
          openAndReadAll(file);
        } catch (CheckpointException e) {
          assertTrue(FLIPPED.contains(e.kind()), e.kind() + ": " + e.getMessage());
          assertFalse(e.getMessage().contains("\n"), e.getMessage());
        }
      }
    }
  }

  @Test
  void centralDirectoryOffsetPastEndOfFile() throws Exception {
    RawZip zip = valid();
    zip.cdOffsetOverride = 0x7FFF_0000L;
    refused(zip.build(), Kind.MALFORMED_CONTAINER, "central directory");
  }

  @Test
  void centralDirectoryThatDoesNotEndAtTheEndRecord() throws Exception {
    // Bytes prepended to a finished zip: every offset in it is now off by the prefix length.
    byte[] zip = valid().build();
    byte[] prefix = ascii("prepended stub bytes");
    byte[] shifted = new byte[prefix.length + zip.length];
    System.arraycopy(prefix, 0, shifted, 0, prefix.length);
    System.arraycopy(zip, 0, shifted, prefix.length, zip.length);
    refused(shifted, Kind.MALFORMED_CONTAINER, "prepended data");
  }

  @Test
  void hugeEntryCount() throws Exception {
    RawZip zip = valid();
    zip.countOverride = 0xFFFE;
    refused(zip.build(), Kind.MALFORMED_CONTAINER, "entries");
  }

  @Test
  void entryCountTooSmallLeavesUnaccountedDirectoryBytes() throws Exception {
    RawZip zip = valid();
    zip.countOverride = 1;
    refused(zip.build(), Kind.MALFORMED_CONTAINER, "unaccounted");
  }

  @Test
  void nameLengthPastTheRecord() throws Exception {
    RawZip zip = valid();
    zip.entries.get(1).nameLengthOverride = 0xFFFF;
    refused(zip.build(), Kind.MALFORMED_CONTAINER, "run past");
  }

  @Test
  void extraFieldPastItsData() throws Exception {
    RawZip zip = valid();
    zip.entries.get(0).centralExtra = new byte[] {0x55, 0x54, 40, 0, 1, 2, 3};
    refused(zip.build(), Kind.MALFORMED_CONTAINER, "extra field");
  }

  @Test
  void localHeaderNameMismatch() throws Exception {
    RawZip zip = valid();
    zip.entries.get(0).localName = "a/data.pkX";
    refused(zip.build(), Kind.MALFORMED_CONTAINER, "names a different file");
  }

  @Test
  void localHeaderCrcMismatch() throws Exception {
    RawZip zip = valid();
    zip.entries.get(0).localCrc = 12345;
    refused(zip.build(), Kind.MALFORMED_CONTAINER, "CRC-32");
  }

  @Test
  void localHeaderMethodMismatch() throws Exception {
    RawZip zip = valid();
    zip.entries.get(0).localMethod = 8;
    refused(zip.build(), Kind.MALFORMED_CONTAINER, "compression method");
  }

  @Test
  void localHeaderOffsetPastCentralDirectory() throws Exception {
    RawZip zip = valid();
    zip.entries.get(1).localHeaderOffset = 1 << 20;
    zip.entries.get(1).writeLocal = false;
    refused(zip.build(), Kind.MALFORMED_CONTAINER, "before the central directory");
  }

  @Test
  void dataRunningIntoTheCentralDirectory() throws Exception {
    RawZip zip = valid();
    zip.entries.get(1).centralCompressedSize = 1000;
    zip.entries.get(1).centralSize = 1000;
    zip.entries.get(1).flags = 8; // data descriptor: the local sizes are not compared
    refused(zip.build(), Kind.MALFORMED_CONTAINER, "central directory");
  }

  @Test
  void overlappingEntries() throws Exception {
    // Entry b's local header and data lie inside entry a's data: one byte range, two entries.
    RawZip.Entry inner = new RawZip.Entry("a/b", ascii("shared bytes"));
    byte[] innerHeader = RawZip.localHeader(inner);
    byte[] outerData = new byte[innerHeader.length + inner.data.length];
    System.arraycopy(innerHeader, 0, outerData, 0, innerHeader.length);
    System.arraycopy(inner.data, 0, outerData, innerHeader.length, inner.data.length);
    RawZip.Entry outer = new RawZip.Entry("a/a", outerData);
    inner.writeLocal = false;
    inner.localHeaderOffset = 30 + "a/a".length();
    refused(new RawZip().add(outer).add(inner).build(), Kind.MALFORMED_CONTAINER, "overlap");
  }

  @Test
  void duplicateNames() throws Exception {
    refused(new RawZip().add("a/data.pkl", ascii("one")).add("a/data.pkl", ascii("two")).build(),
        Kind.MALFORMED_CONTAINER, "two entries are named");
  }

  @Test
  void encryptedEntry() throws Exception {
    RawZip zip = valid();
    zip.entries.get(0).flags = 1;
    refused(zip.build(), Kind.UNSUPPORTED_FORMAT, "encrypted zip entries are not supported");
  }

  @Test
  void dataDescriptorFlagIsLegal() throws Exception {
    RawZip zip = valid();
    zip.entries.get(0).flags = 8;
    zip.entries.get(0).localCrc = 0; // a streaming writer leaves these zero in the local header
    try (ZipArchive archive = ZipArchive.open(write(zip.build()))) {
      archive.verifyCrc(archive.entries().get(0));
    }
  }

  @Test
  void splitArchiveMarker() throws Exception {
    RawZip zip = valid();
    zip.prefix = new byte[] {'P', 'K', '0', '0'};
    refused(zip.build(), Kind.UNSUPPORTED_FORMAT, "split");
  }

  @Test
  void multiDiskArchive() throws Exception {
    RawZip zip = valid();
    zip.diskOverride = 1;
    refused(zip.build(), Kind.UNSUPPORTED_FORMAT, "multi-disk");
  }

  @Test
  void entryOnAnotherDisk() throws Exception {
    RawZip zip = valid();
    zip.entries.get(0).diskStart = 3;
    refused(zip.build(), Kind.UNSUPPORTED_FORMAT, "disk");
  }

  @Test
  void trailingBytesAfterTheEndRecord() throws Exception {
    RawZip zip = valid();
    zip.trailing = ascii("junk");
    refused(zip.build(), Kind.MALFORMED_CONTAINER, "no end of central directory record");
  }

  @Test
  void commentLengthPastEndOfFile() throws Exception {
    RawZip zip = valid();
    zip.comment = ascii("short");
    zip.commentLengthOverride = 500;
    refused(zip.build(), Kind.TRUNCATED, "no end of central directory record");
  }

  @Test
  void fakeEndRecordInTheCommentIsAmbiguous() throws Exception {
    // A second, complete end record inside the comment also ends exactly at the end of file.
    RawZip inner = valid();
    byte[] real = inner.build();
    byte[] fakeEnd = Arrays.copyOfRange(real, real.length - 22, real.length);
    RawZip zip = valid();
    zip.comment = fakeEnd;
    refused(zip.build(), Kind.MALFORMED_CONTAINER, "ambiguous");
  }

  @Test
  void commentContainingTheSignatureIsFine() throws Exception {
    RawZip zip = valid();
    zip.comment = ascii("PK\u0005\u0006 is the end record signature");
    try (ZipArchive archive = ZipArchive.open(write(zip.build()))) {
      assertEquals(2, archive.entries().size());
    }
  }

  @Test
  void storedEntryWithDifferentSizes() throws Exception {
    RawZip zip = valid();
    zip.entries.get(0).size = 3;
    refused(zip.build(), Kind.MALFORMED_CONTAINER, "stored");
  }
}
