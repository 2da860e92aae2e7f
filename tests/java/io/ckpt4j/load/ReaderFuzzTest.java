package io.ckpt4j.load;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.ckpt4j.CheckpointException;
import io.ckpt4j.cli.InspectJson;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Fuzz targets for everything that reads untrusted bytes. The contract: any input ends in a
 * result or in ONE CheckpointException — no other exception, no crash, no hang.
 *
 * <p>{@code mvn verify} runs the seeds in tests/resources/.../ReaderFuzzTestInputs as regression
 * tests; {@code JAZZER_FUZZ=1 mvn test -Dtest=ReaderFuzzTest} fuzzes (maxDuration each).
 */
class ReaderFuzzTest {
  /** torch's data.pkl vocabulary: the load layer's resolver chain and storage table. */
  @FuzzTest(maxDuration = "60s")
  void pickle(byte[] data) {
    StorageTable storages = new StorageTable("fuzz");
    try {
      Pickles.load(ByteBuffer.wrap(data),
          CheckpointGlobals.resolver(LoadOptions.defaults().inertObjects(true)), storages::resolve,
          "fuzz");
    } catch (CheckpointException expected) {
      // refused with a message: the contract
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
      } catch (CheckpointException expected) {
        // refused with a message: the contract
      }
    } finally {
      Files.deleteIfExists(file);
    }
  }
}
