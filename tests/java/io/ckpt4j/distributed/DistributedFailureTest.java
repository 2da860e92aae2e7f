package io.ckpt4j.distributed;

import static io.ckpt4j.Refusals.assertRefused;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ckpt4j.CheckpointException;
import io.ckpt4j.CheckpointException.Kind;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A peer that never arrives, one that goes away, and one that does not call: each is a
 * {@link Kind#PEER_FAILED} line within the timeout (plus slack for a loaded machine), never a
 * hang; and the hint of that line, applied (start every rank), succeeds.
 */
class DistributedFailureTest {
  /** The timeout these tests give the group or the call. */
  private static final Duration SHORT = Duration.ofSeconds(2);
  /** How much later than the timeout the error may come on a shared 2-core machine. */
  private static final Duration SLACK = Duration.ofSeconds(10);
  /** A timeout long enough for the healthy side of a test. */
  private static final Duration LONG = Duration.ofSeconds(60);

  @Test
  @Timeout(90)
  void aPeerThatNeverArrivesFailsTheRendezvousWithinTheTimeoutAndStartingItSucceeds()
      throws Exception {
    int port = Ranks.freePort();
    DistributedOptions alone = DistributedOptions.tcp(Ranks.LOOPBACK, port, 0, 2)
        .withTimeout(SHORT);
    long start = System.nanoTime();
    CheckpointException e = assertRefused(Kind.PEER_FAILED, () -> Distributed.init(alone));
    assertWithinBound(start, "the rendezvous");
    assertTrue(e.getMessage().startsWith("rank 0 of 2 (tcp://127.0.0.1:" + port + ")"),
        e.getMessage());
    assertTrue(e.getMessage().contains("start every rank"), e.getMessage());
    assertTrue(!e.getMessage().contains(".cc:"), "no C++ source location: " + e.getMessage());
    System.out.println("missing peer: " + e.getMessage());

    // The hint applied: start every rank.
    ExecutorService pool = Ranks.pool(2);
    Ranks.await(Ranks.startJava(pool, Ranks.freePort(), 2, LONG, ProcessGroup::barrier, 0, 1));
    pool.shutdownNow();
  }

  @Test
  @Timeout(90)
  void aPeerThatLeavesFailsTheNextCollectiveWithinTheTimeout() throws Exception {
    CountDownLatch leaving = new CountDownLatch(1);
    ExecutorService pool = Ranks.pool(2);
    int port = Ranks.freePort();
    Ranks.Body survivor = g -> {
      g.barrier();
      leaving.await(LONG.toSeconds(), TimeUnit.SECONDS);
      try (var t = CollectiveCases.tensor(CollectiveCases.input(0),
          org.bytedeco.pytorch.global.torch.ScalarType.Float)) {
        long start = System.nanoTime();
        CheckpointException e =
            assertRefused(Kind.PEER_FAILED, () -> g.allReduce(t, ReduceOp.SUM, SHORT));
        assertWithinBound(start, "allReduce with a dead peer");
        assertTrue(e.getMessage().startsWith("rank 0 of 2"), e.getMessage());
        System.out.println("dead peer: " + e.getMessage());
      }
      g.close(); // the hint: a failed group cannot be used again, close it
      assertThrows(IllegalStateException.class, g::barrier);
    };
    Ranks.Body leaver = g -> {
      g.barrier();
      g.close();
      leaving.countDown();
    };
    List<java.util.concurrent.Future<Void>> ranks = Ranks.startJava(pool, port, 2, LONG, survivor, 0);
    ranks.addAll(Ranks.startJava(pool, port, 2, LONG, leaver, 1));
    Ranks.await(ranks);
    pool.shutdownNow();
  }

  @Test
  @Timeout(120)
  void aPythonRankKilledWithSigkillFailsTheNextCollectiveWithinTheTimeout() throws Exception {
    int port = Ranks.freePort();
    java.nio.file.Path out = java.nio.file.Files.createTempFile("dist-join", ".txt");
    Process python = Ranks.python(out, "join", Ranks.LOOPBACK, String.valueOf(port), "1", "2",
        String.valueOf(LONG.toSeconds()));
    try (ProcessGroup g = Distributed.init(
            DistributedOptions.tcp(Ranks.LOOPBACK, port, 0, 2).withTimeout(LONG));
        var t = CollectiveCases.tensor(CollectiveCases.input(0),
            org.bytedeco.pytorch.global.torch.ScalarType.Float)) {
      python.destroyForcibly(); // SIGKILL: no goodbye on the socket
      assertTrue(python.waitFor(LONG.toSeconds(), TimeUnit.SECONDS), "the Python rank survived");
      long start = System.nanoTime();
      CheckpointException e =
          assertRefused(Kind.PEER_FAILED, () -> g.allReduce(t, ReduceOp.SUM, SHORT));
      assertWithinBound(start, "allReduce after the Python rank was killed");
      System.out.println("killed peer: " + e.getMessage());
    } finally {
      python.destroyForcibly();
      java.nio.file.Files.deleteIfExists(out);
    }
  }

  @Test
  @Timeout(90)
  void aPeerThatDoesNotCallFailsTheBarrierWithinItsTimeout() throws Exception {
    CountDownLatch done = new CountDownLatch(1);
    ExecutorService pool = Ranks.pool(2);
    int port = Ranks.freePort();
    Ranks.Body waiting = g -> {
      try {
        long start = System.nanoTime();
        CheckpointException e = assertRefused(Kind.PEER_FAILED, () -> g.barrier(SHORT));
        assertWithinBound(start, "a barrier rank 1 never calls");
        System.out.println("silent peer: " + e.getMessage());
      } finally {
        done.countDown();
      }
    };
    Ranks.Body silent = g -> done.await(LONG.toSeconds(), TimeUnit.SECONDS);
    List<java.util.concurrent.Future<Void>> ranks = Ranks.startJava(pool, port, 2, LONG, waiting, 0);
    ranks.addAll(Ranks.startJava(pool, port, 2, LONG, silent, 1));
    Ranks.await(ranks);
    pool.shutdownNow();
  }

  private static void assertWithinBound(long startNanos, String what) {
    Duration took = Duration.ofNanos(System.nanoTime() - startNanos);
    assertTrue(took.compareTo(SHORT.plus(SLACK)) <= 0, what + " took " + took.toMillis()
        + " ms, past the " + SHORT.toMillis() + " ms timeout plus " + SLACK.toMillis() + " ms");
    System.out.println(what + ": failed after " + took.toMillis() + " ms (timeout "
        + SHORT.toMillis() + " ms)");
  }
}
