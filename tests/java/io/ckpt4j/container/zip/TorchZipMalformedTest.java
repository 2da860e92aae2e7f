package io.ckpt4j.container.zip;

import static io.ckpt4j.container.zip.RawZip.ascii;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ckpt4j.CheckpointException;
import io.ckpt4j.CheckpointException.Kind;
import io.ckpt4j.Refusals;
import io.ckpt4j.container.PythonCases;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** Hostile fixtures and archives that are zips but not valid PyTorch archives. */
class TorchZipMalformedTest extends MalformedZipTestBase {
  @Test
  void hostileFixtures() throws Exception {
    Path hostile = PythonCases.fixture("hostile");
    assertMessage(hostile.resolve("picklescan__tests_data_malicious1_0x1.zip"),
        Kind.UNSUPPORTED_FORMAT, "encrypted");
    assertMessage(
        hostile.resolve("picklescan__tests_data_malicious1_central_directory.zip"),
        Kind.MALFORMED_CONTAINER, "names a different file");
    assertMessage(hostile.resolve("picklescan__tests_data2_malicious1_crc.zip"),
        Kind.MALFORMED_CONTAINER, "CRC-32");
    assertMessage(hostile.resolve("picklescan__tests_data_pytorch_magic_bypass.pt"),
        Kind.NOT_A_CHECKPOINT, "not a zip");
    assertMessage(hostile.resolve("picklescan__tests_data_bad_pytorch.pt"),
        Kind.NOT_A_CHECKPOINT, "not a zip");
    for (String name :
        new String[] {
          "picklescan__tests_data_malicious1.zip", "picklescan__tests_data_malicious1_wrong_ext.zip"
        }) {
      try (ZipArchive zip = ZipArchive.open(hostile.resolve(name))) {
        TorchZip torch = TorchZip.inspect(zip);
        assertEquals(ZipKind.UNKNOWN, torch.kind());
        CheckpointException e =
            Refusals.assertRefused(Kind.NOT_A_CHECKPOINT, torch::requireTorchSave, name);
        assertTrue(e.getMessage().contains("not a torch.save checkpoint"), e.getMessage());
        assertEquals(zip.location(), e.location().orElseThrow());
      }
    }
  }

  @Test
  void entryOutsideTheRootOfATorchArchive() throws Exception {
    Path file =
        write(new RawZip().add("archive/data.pkl", ascii("p")).add("archive/version", ascii("3\n"))
            .add("evil/data.pkl", ascii("q")).build());
    try (ZipArchive zip = ZipArchive.open(file)) {
      CheckpointException e =
          Refusals.assertRefused(Kind.MALFORMED_CONTAINER, () -> TorchZip.inspect(zip));
      assertTrue(e.getMessage().contains("outside"), e.getMessage());
    }
  }

  @Test
  void bigEndianCheckpointIsRefusedWithAFix() throws Exception {
    Path file =
        write(new RawZip().add("archive/data.pkl", ascii("p")).add("archive/byteorder", ascii("big"))
            .add("archive/version", ascii("3\n")).build());
    try (ZipArchive zip = ZipArchive.open(file)) {
      TorchZip torch = TorchZip.inspect(zip).requireTorchSave();
      CheckpointException e = Refusals.assertRefused(Kind.UNSUPPORTED_FORMAT, torch::byteOrder);
      assertTrue(e.getMessage().contains("big-endian"), e.getMessage());
    }
  }

  @Test
  void missingStorageIsNamed() throws Exception {
    Path file = write(new RawZip().add("archive/data.pkl", ascii("p")).build());
    try (ZipArchive zip = ZipArchive.open(file)) {
      TorchZip torch = TorchZip.inspect(zip);
      CheckpointException e =
          Refusals.assertRefused(Kind.MALFORMED_CONTAINER, () -> torch.storage("7"));
      assertTrue(e.getMessage().contains("archive/data/7"), e.getMessage());
      CheckpointException v = Refusals.assertRefused(Kind.MALFORMED_CONTAINER, torch::version);
      assertTrue(v.getMessage().contains("archive/version"), v.getMessage());
    }
  }
}
