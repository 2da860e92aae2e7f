package io.ckpt4j;

import io.ckpt4j.load.CheckpointLoader;
import io.ckpt4j.load.LoadOptions;
import io.ckpt4j.load.LoadedCheckpoint;
import java.nio.file.Path;

/**
 * The JVM {@link LeakReportTest} watches: loads {@code CLOSED} and closes it, loads {@code LEAKED}
 * and drops it unclosed, prints {@code leaked}, then runs the garbage collector until killed (or
 * {@link #MAX_GC_ROUNDS} rounds), so the leak check has its chance to report.
 *
 * <p>Usage: {@code LeakingLoader CLOSED LEAKED}
 */
public final class LeakingLoader {
  private static final int MAX_GC_ROUNDS = 600;
  private static final long GC_PAUSE_MILLIS = 50;

  private LeakingLoader() {}

  public static void main(String[] args) throws Exception {
    try (LoadedCheckpoint closed = CheckpointLoader.load(Path.of(args[0]), LoadOptions.defaults())) {
      closed.close(); // and once more by try-with-resources: harmless, and never reported
    }
    leak(Path.of(args[1]));
    System.out.println("leaked");
    System.out.flush();
    for (int i = 0; i < MAX_GC_ROUNDS; i++) {
      System.gc();
      Thread.sleep(GC_PAUSE_MILLIS);
    }
  }

  /** The opening site the debug-mode report must name. */
  private static void leak(Path file) throws Exception {
    LoadedCheckpoint leaked = CheckpointLoader.load(file, LoadOptions.defaults());
    if (leaked.tensorRefs().isEmpty()) throw new AssertionError("expected tensors in " + file);
  }
}
