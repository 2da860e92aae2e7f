package io.ckpt4j.distributed;

import static io.ckpt4j.Refusals.assertRefused;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ckpt4j.CheckpointException;
import io.ckpt4j.CheckpointException.Kind;
import io.ckpt4j.load.CheckpointLoader;
import io.ckpt4j.load.LoadOptions;
import io.ckpt4j.load.LoadedCheckpoint;
import io.ckpt4j.statedict.StateDict;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ExecutorService;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Rank 0's save behind a barrier ({@code if rank == 0: torch.save(...)}; {@code dist.barrier()}):
 * a save that fails on rank 0 fails rank 1 at once with a line naming rank 0, rank 0 keeps its
 * own error; with rank 0's hint applied the save succeeds and every rank returns after it.
 */
class RankZeroTest {
  private static final Duration TIMEOUT = Duration.ofSeconds(60);

  @TempDir Path dir;

  @Test
  @Timeout(120)
  void aFailedSaveOnRankZeroFailsEveryRankAndTheFixedOneSucceeds() throws Exception {
    Path file = dir.resolve("missing").resolve("model.pt");
    ExecutorService pool = Ranks.pool(2);
    try {
      Ranks.await(Ranks.startJava(pool, Ranks.freePort(), 2, TIMEOUT, g -> {
        try (DistributedDataParallel<DistributedDataParallelTest.TinyMlp> ddp =
            DistributedDataParallel.of(new DistributedDataParallelTest.TinyMlp(), g)) {
          CheckpointException e = assertRefused(g.rank() == 0 ? Kind.NOT_FOUND : Kind.PEER_FAILED,
              () -> ddp.saveModuleStateDict(file));
          if (g.rank() == 1) {
            assertTrue(e.getMessage().startsWith("rank 1 of 2") && e.getMessage().contains(
                "rank 0 failed to save " + file), e.getMessage());
          }
          // Rank 0's own error says why: the directory does not exist. Fixed, then run again.
          if (g.rank() == 0) Files.createDirectories(file.getParent());
          g.barrier();
          ddp.saveModuleStateDict(file);
          assertTrue(Files.isRegularFile(file), "rank " + g.rank() + " returned before the save");
        }
      }, 0, 1));
    } finally {
      pool.shutdownNow();
    }
    try (LoadedCheckpoint ckpt = CheckpointLoader.load(file, LoadOptions.defaults());
        StateDict sd = StateDict.from(ckpt)) {
      assertEquals(List.of("fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"),
          List.copyOf(sd.keys()), "module.state_dict(): no module. prefix");
    }
  }
}
