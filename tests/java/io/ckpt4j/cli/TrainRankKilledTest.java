package io.ckpt4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ckpt4j.ChildJvm;
import io.ckpt4j.checkpoint.Checkpoint;
import io.ckpt4j.models.ResNet;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A rank of a DDP job killed (SIGKILL) mid-training: the survivor, {@code ckpt4j train} with a
 * 3-second group timeout, fails with one clear error line within that timeout (plus slack for a
 * loaded 2-core machine) instead of hanging, and the last checkpoint rank 0 wrote still loads.
 * Two rank JVMs on 127.0.0.1, at most {@link #EPOCHS} short epochs each, all stopped at the end.
 */
class TrainRankKilledTest {
  private static final long TIMEOUT_S = 3;
  private static final long SLACK_S = 10;
  /** A bound on the ranks' own run, should the test die before it kills them. */
  private static final int EPOCHS = 60;
  /** Epochs rank 0 reports before the kill: a checkpoint exists and training is under way. */
  private static final int EPOCHS_BEFORE_KILL = 2;
  private static final long START_S = 120;

  @TempDir Path dir;

  @Test
  @Timeout(240)
  void theSurvivorFailsWithinTheTimeoutAndTheLastCheckpointLoads() throws Exception {
    int port;
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
      port = s.getLocalPort();
    }
    Path ckptDir = dir.resolve("ckpt");
    List<Process> ranks = new ArrayList<>();
    try {
      for (int r = 0; r < 2; r++) {
        ProcessBuilder pb = new ProcessBuilder(ChildJvm.command(List.of(), Main.class, "train",
            "--epochs", String.valueOf(EPOCHS), "--dir", ckptDir.toString(), "--samples", "32",
            "--batch-size", "4", "--width", "4", "--image-size", "16", "--classes", "4",
            "--timeout-s", String.valueOf(TIMEOUT_S)));
        pb.environment().putAll(java.util.Map.of("MASTER_ADDR", "127.0.0.1", "MASTER_PORT",
            String.valueOf(port), "RANK", String.valueOf(r), "WORLD_SIZE", "2", "LOCAL_RANK",
            String.valueOf(r), "OMP_NUM_THREADS", "1"));
        ranks.add(pb.redirectOutput(dir.resolve("out" + r).toFile())
            .redirectError(dir.resolve("err" + r).toFile()).start());
      }
      Path out0 = dir.resolve("out0");
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(START_S);
      while (!Files.readString(out0).contains("epoch " + EPOCHS_BEFORE_KILL + "/")) {
        assertTrue(System.nanoTime() < deadline && ranks.get(0).isAlive(), "rank 0 did not"
            + " train " + EPOCHS_BEFORE_KILL + " epochs: " + Files.readString(dir.resolve("err0")));
        Thread.sleep(50);
      }
      ranks.get(1).destroyForcibly();
      assertTrue(ranks.get(1).waitFor(SLACK_S, TimeUnit.SECONDS), "rank 1 survived SIGKILL");
      long killed = System.nanoTime();
      boolean exited = ranks.get(0).waitFor(TIMEOUT_S + SLACK_S, TimeUnit.SECONDS);
      double seconds = (System.nanoTime() - killed) / 1e9;
      assertTrue(exited, "rank 0 still runs " + seconds + " s after rank 1 was killed");
      List<String> errors = Files.readAllLines(dir.resolve("err0")).stream()
          .filter(l -> l.startsWith("ckpt4j: error:")).toList();
      System.out.printf("rank 1 killed after %s; rank 0 exited %d after %.2f s: %s%n",
          Files.readString(out0).lines().reduce((a, b) -> b).orElse(""),
          ranks.get(0).exitValue(), seconds, errors);
      assertEquals(Main.EXIT_BAD_INPUT, ranks.get(0).exitValue(), Files.readString(dir.resolve(
          "err0")));
      assertEquals(1, errors.size(), errors.toString());
      assertTrue(errors.get(0).startsWith("ckpt4j: error: rank 0 of 2"), errors.get(0));
      assertTrue(errors.get(0).contains("start every rank"), errors.get(0));
      try (Checkpoint ckpt = Checkpoint.load(ckptDir.resolve(TrainCommand.CHECKPOINT));
          ResNet model = ResNet.create("resnet18", 4, 4)) {
        assertTrue(ckpt.epoch() >= EPOCHS_BEFORE_KILL - 1, "epoch " + ckpt.epoch());
        assertTrue(ckpt.model().loadInto(model.module()).isEmpty(), "strict load");
      }
    } finally {
      for (Process p : ranks) p.destroyForcibly();
    }
  }
}
