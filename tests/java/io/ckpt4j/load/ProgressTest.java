package io.ckpt4j.load;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ckpt4j.TestData;
import io.ckpt4j.save.SaveOptions;
import io.ckpt4j.save.TorchSaver;
import io.ckpt4j.value.StorageRef;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What a {@link io.ckpt4j.ProgressListener} is told by an eager load and by a save. */
class ProgressTest {
  @TempDir Path tmp;

  /** Every call's (done, total). */
  private static final class Calls implements io.ckpt4j.ProgressListener {
    final List<long[]> calls = new ArrayList<>();

    @Override
    public void bytes(long done, long total) {
      calls.add(new long[] {done, total});
    }

    /** Checks the listener contract and returns the total. */
    long checkContract() {
      assertTrue(!calls.isEmpty(), "never called");
      long total = calls.get(0)[1];
      long previous = 0;
      for (long[] c : calls) {
        assertEquals(total, c[1], "total changed");
        assertTrue(c[0] >= previous && c[0] <= total, "done went " + previous + " -> " + c[0]);
        previous = c[0];
      }
      assertEquals(total, previous, "the last call is not done == total");
      return total;
    }
  }

  @Test
  void eagerLoadAndSaveTellTheirBytes() throws Exception {
    Path file = TestData.dir("corpus").resolve("dtypes_all.pt");
    Calls load = new Calls();
    try (LoadedCheckpoint ckpt = CheckpointLoader.load(file, LoadOptions.defaults().progress(load))) {
      long storageBytes = 0;
      for (StorageRef s : ckpt.storages()) storageBytes += s.nbytes();
      // The blocks span the storages and the small zip headers between them.
      assertTrue(load.checkContract() >= storageBytes);

      Calls save = new Calls();
      TorchSaver.save(tmp.resolve("out.pt"), ckpt, SaveOptions.defaults().progress(save));
      assertEquals(storageBytes, save.checkContract());
      assertEquals(ckpt.storages().size(), save.calls.size(), "one call per storage");
    }
  }

  @Test
  void mappedLoadReadsNothingUpFrontAndTellsNothing() throws Exception {
    Path file = TestData.dir("corpus").resolve("dtypes_all.pt");
    Calls load = new Calls();
    try (LoadedCheckpoint ckpt =
        CheckpointLoader.load(file, LoadOptions.defaults().mmap(true).progress(load))) {
      assertTrue(load.calls.isEmpty());
    }
  }
}
