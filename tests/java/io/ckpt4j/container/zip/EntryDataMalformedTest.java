package io.ckpt4j.container.zip;

import static io.ckpt4j.container.zip.RawZip.ascii;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ckpt4j.CheckpointException;
import io.ckpt4j.CheckpointException.Kind;
import io.ckpt4j.Refusals;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/** Entry data that lies: deflate bombs, impossible sizes, bad CRCs, unknown methods. */
class EntryDataMalformedTest extends MalformedZipTestBase {
  @Test
  void deflateBombStopsAtTheDeclaredSize() throws Exception {
    RawZip.Entry bomb = RawZip.Entry.deflated("a/data.pkl", new byte[50 << 20]);
    bomb.size = 100; // declared small; inflates to 50 MiB
    Path file = write(new RawZip().add(bomb).build());
    try (ZipArchive zip = ZipArchive.open(file)) {
      ZipEntry e = zip.entries().get(0);
      CheckpointException read =
          Refusals.assertRefused(Kind.MALFORMED_CONTAINER, () -> zip.read(e, Long.MAX_VALUE));
      assertTrue(read.getMessage().contains("more than its declared"), read.getMessage());
      assertEquals(zip.location(), read.location().orElseThrow());
      Refusals.assertRefused(Kind.MALFORMED_CONTAINER, () -> zip.verifyCrc(e));
    }
  }

  @Test
  void zerosDeflatedAtBestCompressionAreNotMistakenForABomb() throws Exception {
    byte[] zeros = new byte[20 << 20];
    Path file = write(new RawZip().add(RawZip.Entry.deflated("a/zeros", zeros)).build());
    try (ZipArchive zip = ZipArchive.open(file)) {
      ZipEntry e = zip.entries().get(0);
      assertTrue(e.size() / e.compressedSize() > 1000, "ratio " + e.size() / e.compressedSize());
      assertArrayEquals(zeros, ZipArchivePythonTest.bytes(zip.read(e, zeros.length)));
    }
  }

  @Test
  void declaredSizeBeyondWhatDeflateCanProduce() throws Exception {
    RawZip.Entry liar = RawZip.Entry.deflated("a/data.pkl", ascii("tiny"));
    liar.size = 1L << 30;
    Path file = write(new RawZip().add(liar).build());
    try (ZipArchive zip = ZipArchive.open(file)) {
      ZipEntry e = zip.entries().get(0);
      CheckpointException read =
          Refusals.assertRefused(Kind.MALFORMED_CONTAINER, () -> zip.read(e, Long.MAX_VALUE));
      assertTrue(read.getMessage().contains("more than deflate can produce"), read.getMessage());
    }
  }

  @Test
  void entryLargerThanTheCallersLimit() throws Exception {
    Path file = write(new RawZip().add("archive/data.pkl", new byte[5000]).build());
    try (ZipArchive zip = ZipArchive.open(file)) {
      CheckpointException e =
          Refusals.assertRefused(
              Kind.LIMIT_EXCEEDED, () -> zip.read(zip.entries().get(0), 4096, "pickles"));
      assertTrue(
          e.getMessage().contains("entry archive/data.pkl is 4.9 KiB (5000 bytes), more than the 4 KiB limit for pickles"),
          e.getMessage());
    }
  }

  @Test
  void deflatedDataThatEndsEarly() throws Exception {
    RawZip.Entry cut = RawZip.Entry.deflated("a/data.pkl", new byte[100_000]);
    cut.data = Arrays.copyOf(cut.data, cut.data.length / 2);
    refused(new RawZip().add(cut).build(), Kind.MALFORMED_CONTAINER, "deflated entry");
  }

  @Test
  void deflatedDataThatIsNotDeflate() throws Exception {
    RawZip.Entry junk = new RawZip.Entry("a/data.pkl", new byte[] {(byte) 0xFF, (byte) 0xFF, 1, 2});
    junk.method = 8;
    junk.size = 10;
    refused(new RawZip().add(junk).build(), Kind.MALFORMED_CONTAINER, "not valid deflate data");
  }

  @Test
  void storedDataFailingItsCrc() throws Exception {
    RawZip zip = valid();
    zip.entries.get(0).crc = 0xDEADBEEFL;
    refused(zip.build(), Kind.MALFORMED_CONTAINER, "CRC-32 check");
  }

  @Test
  void unsupportedCompressionMethod() throws Exception {
    RawZip zip = valid();
    zip.entries.get(0).method = 12; // bzip2
    refused(zip.build(), Kind.UNSUPPORTED_FORMAT, "compression method 12");
  }

  @Test
  void entryOfAnotherArchiveIsRejected() throws Exception {
    Path first = write(valid().build());
    Path second = write(new RawZip().add("a/data.pkl", ascii("other")).build());
    try (ZipArchive a = ZipArchive.open(first);
        ZipArchive b = ZipArchive.open(second)) {
      ZipEntry foreign = b.entries().get(0);
      assertThrows(IllegalArgumentException.class, () -> a.read(foreign, 100));
    }
  }
}
