package io.ckpt4j.distributed;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Java and Python ranks in one Gloo group (TCPStore on 127.0.0.1, hosted by Java rank 0): every
 * collective's result checked on both sides against values each computes on its own. This is
 * the proof that the Java rank runs PyTorch's engine: a torch 2.13 process cannot tell it from a
 * Python rank.
 */
class DistributedPeerTest {
  /** The group timeout: long enough for a loaded 2-core machine to start Python and torch. */
  private static final Duration TIMEOUT = Duration.ofSeconds(60);
  /** Checks per rank: 4 dtypes x (sum, max, min, broadcast, W gathers) + 2 floating AVGs. */
  private static int expectedChecks(int world) {
    return CollectiveCases.DTYPES.size() * (4 + world) + 2;
  }

  @TempDir Path dir;

  @Test
  @Timeout(180)
  void aJavaRankAndAPythonRankRunTheCollectivesTogether() throws Exception {
    mixed(2, 0);
  }

  @Test
  @Timeout(180)
  void twoJavaRanksAndAPythonRankShareAGroupOfThree() throws Exception {
    mixed(3, 0, 1);
  }

  /**
   * Two Java ranks in processes of their own, from torchrun's environment variables, and a
   * Python rank: the job torchrun would start, one rank in Python.
   */
  @Test
  @Timeout(240)
  void twoJavaProcessesFromTheTorchrunEnvironmentAndAPythonRank() throws Exception {
    int world = 3;
    int port = Ranks.freePort();
    Path pyOut = dir.resolve("python3.json");
    Process python = Ranks.python(pyOut, "collectives", Ranks.LOOPBACK, String.valueOf(port),
        String.valueOf(world - 1), String.valueOf(world), String.valueOf(TIMEOUT.toSeconds()));
    List<Process> javas = new ArrayList<>();
    List<Path> outs = new ArrayList<>();
    try {
      for (int r = 0; r < world - 1; r++) {
        ProcessBuilder pb = new ProcessBuilder(io.ckpt4j.ChildJvm.command(List.of(),
            JavaRankMain.class, String.valueOf(TIMEOUT.toSeconds())));
        pb.environment().putAll(java.util.Map.of("MASTER_ADDR", Ranks.LOOPBACK,
            "MASTER_PORT", String.valueOf(port), "RANK", String.valueOf(r),
            "WORLD_SIZE", String.valueOf(world), "LOCAL_RANK", String.valueOf(r)));
        Path out = dir.resolve("java" + r + ".txt");
        outs.add(out);
        javas.add(pb.redirectOutput(out.toFile())
            .redirectError(ProcessBuilder.Redirect.INHERIT).start());
      }
      for (int r = 0; r < javas.size(); r++) {
        assertTrue(javas.get(r).waitFor(Ranks.RUN_SECONDS, java.util.concurrent.TimeUnit.SECONDS),
            "Java rank " + r + " did not finish");
        String printed = java.nio.file.Files.readString(outs.get(r)).strip();
        assertEquals(0, javas.get(r).exitValue(), "Java rank " + r + ": " + printed);
        assertEquals("checks " + expectedChecks(world), printed, "Java rank " + r);
      }
      JsonNode report = new ObjectMapper().readTree(Ranks.finish(python, pyOut));
      assertTrue(report.get("failures").isEmpty(), "Python's checks: " + report.get("failures"));
      assertEquals(expectedChecks(world), report.get("checks").asInt());
    } finally {
      for (Process p : javas) p.destroyForcibly();
      python.destroyForcibly();
    }
  }

  @Test
  @Timeout(120)
  void javaRanksAloneOverAFileStore() throws Exception {
    Path file = dir.resolve("rendezvous");
    ExecutorService pool = Ranks.pool(2);
    AtomicInteger checks = new AtomicInteger();
    List<Future<Void>> futures = new ArrayList<>();
    for (int r = 0; r < 2; r++) {
      int rank = r;
      futures.add(pool.submit(() -> {
        DistributedOptions o = DistributedOptions.file(file, rank, 2).withTimeout(TIMEOUT);
        try (ProcessGroup g = Distributed.init(o)) {
          checks.addAndGet(CollectiveCases.run(g));
        }
        return null;
      }));
    }
    Ranks.await(futures);
    pool.shutdownNow();
    assertEquals(2 * expectedChecks(2), checks.get());
  }

  /** Java ranks {@code javaRanks} on threads, Python the last rank, in a group of {@code world}. */
  private void mixed(int world, int... javaRanks) throws Exception {
    int port = Ranks.freePort();
    Path out = dir.resolve("python.json");
    long start = System.nanoTime();
    Process python = Ranks.python(out, "collectives", Ranks.LOOPBACK, String.valueOf(port),
        String.valueOf(world - 1), String.valueOf(world), String.valueOf(TIMEOUT.toSeconds()));
    ExecutorService pool = Ranks.pool(javaRanks.length);
    AtomicInteger checks = new AtomicInteger();
    try {
      Ranks.await(Ranks.startJava(pool, port, world, TIMEOUT,
          g -> checks.addAndGet(CollectiveCases.run(g)), javaRanks));
    } finally {
      pool.shutdownNow();
      if (python.isAlive()) python.waitFor(Ranks.RUN_SECONDS, java.util.concurrent.TimeUnit.SECONDS);
      python.destroyForcibly();
    }
    JsonNode report = new ObjectMapper().readTree(Ranks.finish(python, out));
    assertEquals(world - 1, report.get("rank").asInt());
    assertTrue(report.get("failures").isEmpty(), "Python's checks: " + report.get("failures"));
    assertEquals(expectedChecks(world), report.get("checks").asInt(), "Python's check count");
    assertEquals(javaRanks.length * expectedChecks(world), checks.get(), "Java's check count");
    System.out.printf("world %d (Java ranks %d, Python 1): %.1f s%n", world, javaRanks.length,
        (System.nanoTime() - start) / 1e9);
  }
}
