package io.ckpt4j.scan;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ckpt4j.TestData;
import io.ckpt4j.load.CheckpointLoader;
import io.ckpt4j.load.CheckpointTree;
import io.ckpt4j.load.LoadOptions;
import io.ckpt4j.load.LoadedCheckpoint;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.Test;

/**
 * A deflated storage record (make_scan.py's {@code deflated_storage}: 64 MiB of zeros in a few
 * KiB) is inflated only when its tensor is made: a lazy open, {@code describe} (inspect) and a
 * scan allocate a small fraction of it, while an eager load still gives torch's values.
 */
class DeflatedStorageTest {
  private static final long INFLATED_BYTES = 64L << 20;
  /** Far below the inflated size: what reading the pickle and the directory may allocate. */
  private static final long MAX_ALLOCATED = 8L << 20;

  private static Path file() {
    return TestData.dir("scan").resolve("deflated_storage.pt");
  }

  private static long allocatedBy(Runnable work) {
    com.sun.management.ThreadMXBean threads =
        (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
    long before = threads.getCurrentThreadAllocatedBytes();
    work.run();
    return threads.getCurrentThreadAllocatedBytes() - before;
  }

  @Test
  void inspectScanAndLazyOpenInflateNothing() throws Exception {
    assertTrue(Files.size(file()) < INFLATED_BYTES / 64, "the fixture is compressed");
    long describe = allocatedBy(() -> {
      try {
        CheckpointTree tree = CheckpointLoader.describe(file(), LoadOptions.defaults());
        assertEquals(1, tree.tensorRefs().size());
      } catch (Exception e) {
        throw new AssertionError(e);
      }
    });
    long scan = allocatedBy(() -> {
      FileReport report = CheckpointScanner.scanFile(file());
      assertEquals("review", report.verdict().word());
      assertNotNull(report.finding(FindingKind.DEFLATED_STORAGE));
    });
    long lazy = allocatedBy(() -> {
      try (LoadedCheckpoint c = CheckpointLoader.load(file(), LoadOptions.defaults().mmap(true))) {
        assertEquals(1, c.tensorRefs().size());
      } catch (Exception e) {
        throw new AssertionError(e);
      }
    });
    assertTrue(describe < MAX_ALLOCATED, "describe allocated " + describe);
    assertTrue(scan < MAX_ALLOCATED, "scan allocated " + scan);
    assertTrue(lazy < MAX_ALLOCATED, "a lazy open allocated " + lazy);
  }

  @Test
  void anEagerLoadInflatesIt() throws Exception {
    try (LoadedCheckpoint c = CheckpointLoader.load(file(), LoadOptions.defaults())) {
      Tensor zeros = c.tensor(c.tensorRefs().get(0));
      assertEquals(INFLATED_BYTES / Float.BYTES, zeros.numel());
      assertEquals(0.0, zeros.abs().sum().item_double());
    }
  }
}
