package io.ckpt4j.load;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.ckpt4j.CheckpointException;
import io.ckpt4j.CheckpointException.Kind;
import io.ckpt4j.cli.InspectJson;
import io.ckpt4j.container.safetensors.SafetensorsHeader;
import io.ckpt4j.container.zip.ZipArchive;
import io.ckpt4j.container.zip.ZipEntry;
import io.ckpt4j.layout.hf.ShardIndex;
import io.ckpt4j.pickle.GlobalResolver;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.Set;

/**
 * Fuzz targets for everything that reads untrusted bytes. The contract: any input ends in a
 * result or in ONE CheckpointException — no other exception, no crash, no hang.
 *
 * <p>{@code mvn verify} runs the seeds in tests/resources/.../ReaderFuzzTestInputs/TARGET (the
 * project's fixtures: corpus files, zip and safetensors cases, shard indexes, hostile files) as
 * regression tests; {@code JAZZER_FUZZ=1 mvn test -Dtest=ReaderFuzzTest#TARGET} fuzzes one target
 * (maxDuration, or {@code JAZZER_MAX_DURATION}). The long mode, every target in turn, is
 * tests/soak/fuzz.sh (see tests/README.md).
 */
class ReaderFuzzTest {
  /**
   * The kinds arbitrary bytes can earn: everything that says what is wrong with the input. Not
   * IO, NATIVE, NOT_FOUND, CLOSED or STATE_DICT_MISMATCH, which would be ckpt4j's own failure.
   */
  private static final Set<Kind> FROM_INPUT = EnumSet.of(Kind.NOT_A_CHECKPOINT, Kind.WRONG_LOADER,
      Kind.UNSUPPORTED_FORMAT, Kind.TRUNCATED, Kind.MALFORMED_CONTAINER, Kind.MALFORMED_PICKLE,
      Kind.REFUSED_GLOBAL, Kind.INVALID_TENSOR, Kind.LIMIT_EXCEEDED, Kind.DEVICE,
      Kind.INVALID_VALUE, Kind.UNSUPPORTED_VALUE);

  /** Entries larger than this are not read whole (the reader refuses or limits them). */
  private static final long MAX_ENTRY_BYTES = 1L << 26;

  /** What a target does with the file holding the fuzzer's bytes. */
  private interface FileTarget {
    void run(Path file) throws CheckpointException, IOException;
  }

  /** Writes {@code data} to a temporary file, runs {@code target} on it: a result or one refusal. */
  private static void withFile(byte[] data, String suffix, FileTarget target) throws IOException {
    Path file = Files.createTempFile("ckpt4j-fuzz", suffix);
    try {
      Files.write(file, data);
      target.run(file);
    } catch (CheckpointException e) {
      assertFromInput(e); // refused with a message that says why: the contract
    } finally {
      Files.deleteIfExists(file);
    }
  }

  private static void assertFromInput(CheckpointException e) {
    assertTrue(FROM_INPUT.contains(e.kind()), e.kind() + ": " + e.getMessage());
    assertFalse(e.getMessage().contains("\n"), e.getMessage());
  }

  /** torch's data.pkl vocabulary: the load layer's resolver chain and storage table. */
  @FuzzTest(maxDuration = "60s")
  void pickle(byte[] data) {
    StorageTable storages = new StorageTable("fuzz");
    try {
      Pickles.load(ByteBuffer.wrap(data),
          CheckpointGlobals.resolver(LoadOptions.defaults().inertObjects(true)), storages::resolve,
          "fuzz");
    } catch (CheckpointException e) {
      assertFromInput(e); // refused with a message that says why: the contract
    }
  }

  /** The zip container alone: end record, central directory, local headers, every entry read. */
  @FuzzTest(maxDuration = "60s")
  void zip(byte[] data) throws IOException {
    withFile(data, ".zip", file -> {
      try (ZipArchive archive = ZipArchive.open(file)) {
        for (ZipEntry entry : archive.entries()) archive.read(entry, MAX_ENTRY_BYTES);
      }
    });
  }

  /** The legacy (pre-1.6) format alone: its pickles, storage records and their bounds. */
  @FuzzTest(maxDuration = "60s")
  void legacy(byte[] data) throws IOException {
    GlobalResolver resolver = CheckpointGlobals.resolver(LoadOptions.defaults().inertObjects(true));
    withFile(data, ".pt", file -> {
      try (FileChannel channel = FileChannel.open(file)) {
        LegacyReader.read(file, channel, resolver);
      }
    });
  }

  /** A safetensors header, then, if it reads, the whole file loaded (every tensor built). */
  @FuzzTest(maxDuration = "60s")
  void safetensors(byte[] data) throws IOException {
    withFile(data, ".safetensors", file -> {
      SafetensorsHeader.read(file);
      CraftedFilesTest.loadAll(file, LoadOptions.defaults().mapLocation("cpu"));
    });
  }

  /** A Hugging Face shard index ({@code *.index.json}): its JSON, weight map and shard names. */
  @FuzzTest(maxDuration = "60s")
  void shardIndex(byte[] data) throws IOException {
    Path dir = Files.createTempDirectory("ckpt4j-fuzz");
    Path file = dir.resolve("model.safetensors.index.json");
    try {
      Files.write(file, data);
      ShardIndex index = ShardIndex.read(file);
      for (String shard : index.shardFiles()) {
        Path resolved = index.resolve(shard);
        assertTrue(resolved.normalize().startsWith(dir), "a shard outside the index's folder: "
            + shard);
      }
    } catch (CheckpointException e) {
      assertFromInput(e);
    } finally {
      Files.deleteIfExists(file);
      Files.deleteIfExists(dir);
    }
  }

  /** Whole files: format sniffing, zip/legacy/safetensors containers, tensors, inspect. */
  @FuzzTest(maxDuration = "60s")
  void checkpointFile(byte[] data) throws IOException {
    Path file = Files.createTempFile("ckpt4j-fuzz", ".pt");
    try {
      Files.write(file, data);
      try (LoadedCheckpoint ckpt = CheckpointLoader.load(file,
          LoadOptions.defaults().mapLocation("cpu").mmap(true))) {
        InspectJson.document(ckpt);
      } catch (CheckpointException e) {
        assertFromInput(e); // refused with a message that says why: the contract
      }
    } finally {
      Files.deleteIfExists(file);
    }
  }
}
