package io.ckpt4j.container.zip;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.ckpt4j.CheckpointException;
import io.ckpt4j.CheckpointException.Kind;
import io.ckpt4j.Refusals;
import io.ckpt4j.container.PythonCases;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** The reader against what Python's zipfile and torch see in the same files. */
class ZipArchivePythonTest {

  static Stream<JsonNode> generatedZips() {
    return PythonCases.list("zips").stream();
  }

  static Stream<JsonNode> fixtureZips() {
    return PythonCases.list("fixtures").stream().filter(z -> !z.has("python_error"));
  }

  static Stream<JsonNode> fixturesPythonRefuses() {
    return PythonCases.list("fixtures").stream().filter(z -> z.has("python_error"));
  }

  static Stream<Path> notZips() {
    return Stream.concat(
        PythonCases.list("not_zip").stream().map(n -> PythonCases.generated(n.asText())),
        PythonCases.list("fixtures_not_zip").stream().map(n -> PythonCases.fixture(n.asText())));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("generatedZips")
  void generatedZipMatchesPython(JsonNode expected) throws Exception {
    compare(PythonCases.generated(expected.get("file").asText()), expected);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("fixtureZips")
  void fixtureZipMatchesPython(JsonNode expected) throws Exception {
    compare(PythonCases.fixture(expected.get("file").asText()), expected);
  }

  /** Files Python's zipfile refuses (encrypted, bad CRC...) are refused here too. */
  @ParameterizedTest(name = "{0}")
  @MethodSource("fixturesPythonRefuses")
  void fixtureThatPythonRefusesIsRefused(JsonNode expected) {
    Path file = PythonCases.fixture(expected.get("file").asText());
    Kind kind = Kind.valueOf(expected.get("java_kind").asText());
    Refusals.assertRefused(kind, () -> {
      try (ZipArchive zip = ZipArchive.open(file)) {
        for (ZipEntry e : zip.entries()) {
          zip.read(e, Long.MAX_VALUE);
        }
      }
    }, expected.get("python_error").asText());
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("notZips")
  void legacyAndOtherNonZipFilesAreRefused(Path file) {
    CheckpointException e =
        Refusals.assertRefused(Kind.NOT_A_CHECKPOINT, () -> ZipArchive.open(file), file.toString());
    assertTrue(e.getMessage().contains("not a zip archive"), e.getMessage());
  }

  /** Why {@link TorchZip#requireTorchSave} refuses an archive of each kind but torch.save's. */
  private static Kind kindOf(ZipKind zipKind) {
    return switch (zipKind) {
      case TORCHSCRIPT, PT2 -> Kind.WRONG_LOADER;
      case OLD_MODEL_JSON -> Kind.UNSUPPORTED_FORMAT;
      case UNKNOWN -> Kind.NOT_A_CHECKPOINT;
      case TORCH_SAVE -> throw new AssertionError("torch.save archives are not refused");
    };
  }

  @Test
  void sparseFourGibZipReadsOnlyHeaders() throws Exception {
    if (!PythonCases.manifest().get("optional").get("sparse_4gib.zip").asBoolean()) {
      return; // the build's file system cannot hold a sparse file; generatedZips has no such case
    }
    Path file = PythonCases.generated("sparse_4gib.zip");
    long start = System.nanoTime();
    try (ZipArchive zip = ZipArchive.open(file)) {
      ZipEntry big = zip.find("big/data/0").orElseThrow();
      assertTrue(big.size() > 0xFFFF_FFFFL);
      ZipEntry version = zip.find("big/version").orElseThrow();
      assertTrue(version.localHeaderOffset() > 0xFFFF_FFFFL);
      assertEquals("3\n", new String(bytes(zip.read(version, 16)), "UTF-8"));
    }
    assertTrue(System.nanoTime() - start < 5_000_000_000L, "opening must not read entry data");
  }

  private static void compare(Path file, JsonNode expected) throws Exception {
    try (ZipArchive zip = ZipArchive.open(file)) {
      JsonNode entries = expected.get("entries");
      List<ZipEntry> actual = zip.entries();
      assertEquals(entries.size(), actual.size(), "entry count");
      assertEquals(expected.get("zip64").asBoolean(), zip.isZip64(), "zip64 end records");
      assertArrayEquals(HexFormat.of().parseHex(expected.get("comment_hex").asText()), zip.comment());
      for (int i = 0; i < actual.size(); i++) {
        JsonNode want = entries.get(i);
        ZipEntry got = actual.get(i);
        String name = want.get("name").asText();
        assertEquals(name, got.name());
        assertEquals(want.get("method").asInt(), got.method(), name);
        assertEquals(want.get("flags").asInt(), got.flags(), name);
        assertEquals(want.get("size").asLong(), got.size(), name);
        assertEquals(want.get("compressed_size").asLong(), got.compressedSize(), name);
        assertEquals(want.get("crc32").asLong(), got.crc32(), name);
        assertEquals(want.get("header_offset").asLong(), got.localHeaderOffset(), name);
        assertEquals(want.get("data_offset").asLong(), got.dataOffset(), name);
        assertEquals(got, zip.find(name).orElseThrow());
        if (!want.get("sha256").isNull()) {
          byte[] data = bytes(zip.read(got, Long.MAX_VALUE));
          assertEquals(want.get("sha256").asText(), sha256(data), name);
          if (want.has("hex")) {
            assertEquals(want.get("hex").asText(), HexFormat.of().formatHex(data), name);
          }
          zip.verifyCrc(got);
        }
      }
      TorchZip torch = TorchZip.inspect(zip);
      assertEquals(ZipKind.valueOf(expected.get("kind").asText()), torch.kind());
      assertEquals(expected.get("root").asText(), torch.root());
      if (torch.kind() == ZipKind.TORCH_SAVE) {
        torch.requireTorchSave();
        assertEquals(ByteOrder.LITTLE_ENDIAN, torch.byteOrder());
        String version = new String(bytes(zip.read(torch.requireRecord("version"), 16)), "UTF-8");
        assertEquals(Long.parseLong(version.strip()), torch.version());
        for (String key : torch.storageKeys()) {
          assertEquals(zip.find(torch.root() + "/data/" + key).orElseThrow(), torch.storage(key));
        }
      } else {
        CheckpointException e = assertThrows(CheckpointException.class, torch::requireTorchSave);
        assertEquals(kindOf(torch.kind()), e.kind(), e.getMessage());
      }
    }
  }

  static byte[] bytes(ByteBuffer buffer) {
    byte[] out = new byte[buffer.remaining()];
    buffer.duplicate().get(out);
    return out;
  }

  static String sha256(byte[] data) throws Exception {
    return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data));
  }
}
