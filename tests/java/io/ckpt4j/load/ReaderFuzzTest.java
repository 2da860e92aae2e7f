package io.ckpt4j.load;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.ckpt4j.CheckpointException;
import io.ckpt4j.CheckpointException.Kind;
import io.ckpt4j.cli.InspectJson;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.Set;

/**
 * Fuzz targets for everything that reads untrusted bytes. The contract: any input ends in a
 * result or in ONE CheckpointException — no other exception, no crash, no hang.
 *
 * <p>{@code mvn verify} runs the seeds in tests/resources/.../ReaderFuzzTestInputs as regression
 * tests; {@code JAZZER_FUZZ=1 mvn test -Dtest=ReaderFuzzTest} fuzzes (maxDuration each).
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
