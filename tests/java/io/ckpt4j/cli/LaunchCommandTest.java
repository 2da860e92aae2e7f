package io.ckpt4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ckpt4j.CliRun;
import io.ckpt4j.checkpoint.Checkpoint;
import io.ckpt4j.models.ResNet;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code ckpt4j launch}: torchrun's environment for each rank (global ranks from
 * {@code --node-rank}), output forwarded with a rank prefix, one failed rank stops the others
 * and gives the launcher its status; and {@code launch --nproc 2 -- train} of a tiny
 * configuration, resumed by a one-rank job.
 */
class LaunchCommandTest {
  /** ResNet-18's layout at width 4 on 16x16 images: about a second an epoch on 2 cores. */
  private static final List<String> TINY = List.of("--samples", "32", "--batch-size", "4",
      "--width", "4", "--image-size", "16", "--classes", "4", "--timeout-s", "60");

  @TempDir Path dir;

  @Test
  @Timeout(60)
  void ranksGetTorchrunsEnvironmentAndOneFailedRankStopsTheOthers() throws Exception {
    int port = freePort();
    long start = System.nanoTime();
    // Node 1 of 2, 2 ranks a node: global ranks 2 and 3; local rank 1 (rank 3) exits with 3,
    // rank 2 would wait a minute.
    CliRun run = CliRun.of("launch", "--nproc", "2", "--nnodes", "2", "--node-rank", "1",
        "--master-port", String.valueOf(port), "--", LaunchProbe.class.getName());
    double seconds = (System.nanoTime() - start) / 1e9;
    assertEquals(LaunchProbe.FAILURE_STATUS, run.exit(), run.stderr());
    assertTrue(seconds < 30, "the launcher took " + seconds + " s to stop rank 2");
    String omp = Objects.requireNonNullElse(System.getenv("OMP_NUM_THREADS"), "1");
    for (int local = 0; local < 2; local++) {
      int rank = 2 + local;
      String env = "[rank " + rank + "]: env MASTER_ADDR=127.0.0.1 MASTER_PORT=" + port
          + " RANK=" + rank + " WORLD_SIZE=4 LOCAL_RANK=" + local + " LOCAL_WORLD_SIZE=2"
          + " GROUP_RANK=1 GROUP_WORLD_SIZE=2 ROLE_RANK=" + rank + " ROLE_WORLD_SIZE=4"
          + " OMP_NUM_THREADS=" + omp;
      assertTrue(run.stdout().lines().anyMatch(env::equals), env + " in:\n" + run.stdout());
    }
    assertTrue(run.stderr().contains("ckpt4j launch: rank 3 failed with exit status 3"),
        run.stderr());
  }

  @Test
  @Timeout(240)
  void twoRanksTrainAndOneRankResumes() throws Exception {
    Path ckptDir = dir.resolve("ckpt");
    // --resume before any checkpoint: every rank says how to fix it, the launcher fails.
    CliRun early = train(1, 1, "--resume");
    assertEquals(Main.EXIT_BAD_INPUT, early.exit(), early.stderr());
    assertTrue(early.stderr().contains("run without --resume first"), early.stderr());
    // The hint applied.
    CliRun first = train(2, 2);
    assertEquals(0, first.exit(), first.stderr());
    assertTrue(first.stdout().contains("[rank 0]: epoch 1/2: loss "), first.stdout());
    assertTrue(first.stdout().contains("[rank 0]: epoch 2/2: loss "), first.stdout());
    checkpoint(ckptDir, 1, 2);
    CliRun resumed = train(1, 3, "--resume");
    assertEquals(0, resumed.exit(), resumed.stderr());
    assertTrue(resumed.stdout().contains("[rank 0]: resumed " + ckptDir.resolve(
        TrainCommand.CHECKPOINT) + ": 2 epochs done, 1 to go"), resumed.stdout());
    assertTrue(resumed.stdout().contains("[rank 0]: epoch 3/3: loss "), resumed.stdout());
    checkpoint(ckptDir, 2, 1);
    System.out.print(first.stdout() + resumed.stdout());
  }

  /** The training checkpoint after {@code epoch}, by {@code world} ranks, loads into a model. */
  private static void checkpoint(Path ckptDir, long epoch, long world) throws Exception {
    try (Checkpoint ckpt = Checkpoint.load(ckptDir.resolve(TrainCommand.CHECKPOINT));
        ResNet model = ResNet.create("resnet18", 4, 4)) {
      assertEquals(List.of("model", "optimizer", "lr_scheduler", "epoch", "args"),
          new ArrayList<>(ckpt.keys()));
      assertEquals(epoch, ckpt.epoch());
      assertEquals(world, ((Number) ckpt.args().get("world_size")).longValue());
      assertTrue(ckpt.model().loadInto(model.module()).isEmpty(), "strict load");
    }
  }

  private CliRun train(int nproc, int epochs, String... more) throws Exception {
    List<String> args = new ArrayList<>(List.of("launch", "--nproc", String.valueOf(nproc),
        "--master-port", String.valueOf(freePort()), "--", "train", "--epochs",
        String.valueOf(epochs), "--dir", dir.resolve("ckpt").toString()));
    args.addAll(TINY);
    args.addAll(List.of(more));
    return CliRun.of(args.toArray(String[]::new));
  }

  private static int freePort() throws Exception {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
      return s.getLocalPort();
    }
  }
}
