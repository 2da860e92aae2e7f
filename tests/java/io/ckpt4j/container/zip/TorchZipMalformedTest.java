package io.ckpt4j.container.zip;

import static io.ckpt4j.container.zip.RawZip.ascii;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ckpt4j.CheckpointException;
import io.ckpt4j.container.PythonCases;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** Hostile fixtures and archives that are zips but not valid PyTorch archives. */
class TorchZipMalformedTest extends MalformedZipTestBase {
  @Test
  void hostileFixtures() throws Exception {
    Path hostile = PythonCases.fixture("hostile");
    assertMessage(hostile.resolve("picklescan__tests_data_malicious1_0x1.zip"), "encrypted");
    assertMessage(
        hostile.resolve("picklescan__tests_data_malicious1_central_directory.zip"),
        "names a different file");
    assertMessage(hostile.resolve("picklescan__tests_data2_malicious1_crc.zip"), "CRC-32");
    assertMessage(hostile.resolve("picklescan__tests_data_pytorch_magic_bypass.pt"), "not a zip");
    assertMessage(hostile.resolve("picklescan__tests_data_bad_pytorch.pt"), "not a zip");
    for (String name :
        new String[] {
          "picklescan__tests_data_malicious1.zip", "picklescan__tests_data_malicious1_wrong_ext.zip"
        }) {
      try (ZipArchive zip = ZipArchive.open(hostile.resolve(name))) {
        TorchZip torch = TorchZip.inspect(zip);
        assertEquals(ZipKind.UNKNOWN, torch.kind());
        CheckpointException e = assertThrows(CheckpointException.class, torch::requireTorchSave);
        assertTrue(e.getMessage().contains("not a torch.save checkpoint"), e.getMessage());
      }
    }
  }

  @Test
  void entryOutsideTheRootOfATorchArchive() throws Exception {
    Path file =
        write(new RawZip().add("archive/data.pkl", ascii("p")).add("archive/version", ascii("3\n"))
            .add("evil/data.pkl", ascii("q")).build());
    try (ZipArchive zip = ZipArchive.open(file)) {
      CheckpointException e = assertThrows(CheckpointException.class, () -> TorchZip.inspect(zip));
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
      CheckpointException e = assertThrows(CheckpointException.class, torch::byteOrder);
      assertTrue(e.getMessage().contains("big-endian"), e.getMessage());
    }
  }

  @Test
  void missingStorageIsNamed() throws Exception {
    Path file = write(new RawZip().add("archive/data.pkl", ascii("p")).build());
    try (ZipArchive zip = ZipArchive.open(file)) {
      TorchZip torch = TorchZip.inspect(zip);
      CheckpointException e = assertThrows(CheckpointException.class, () -> torch.storage("7"));
      assertTrue(e.getMessage().contains("archive/data/7"), e.getMessage());
      CheckpointException v = assertThrows(CheckpointException.class, torch::version);
      assertTrue(v.getMessage().contains("archive/version"), v.getMessage());
    }
  }
}
