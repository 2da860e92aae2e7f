package io.ckpt4j.distributed;

import static io.ckpt4j.Refusals.assertRefused;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.ckpt4j.CheckpointException.Kind;
import io.ckpt4j.TestData;
import io.ckpt4j.layout.dcp.DcpLayout;
import io.ckpt4j.load.CheckpointLoader;
import io.ckpt4j.load.LoadOptions;
import io.ckpt4j.load.LoadedCheckpoint;
import io.ckpt4j.save.DcpCheck;
import io.ckpt4j.save.SaveOptions;
import io.ckpt4j.tensor.TensorBytes;
import io.ckpt4j.value.TensorRef;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * DCP in a process group: Java ranks (threads of this JVM, each its own group member) save as
 * {@code dcp.save} does with a group, a file per rank and rank 0's {@code .metadata}, and Python
 * (one process, no group: tests/python/make_dcp.py check) loads it bit-exact with {@code dcp.load}
 * and {@code dcp_to_torch_save}; Python's 2-rank {@code dcp.save} (the ranks2 fixture, DTensor
 * shards) loads into the pre-allocated tensors of a 1-rank and a 2-rank Java job, each tensor's
 * bytes equal to Python's (sha256 from make_dcp.py).
 */
class DistributedDcpTest {
  private static final Duration TIMEOUT = Duration.ofSeconds(60);
  private static final ObjectMapper JSON = new ObjectMapper();

  @TempDir Path tmp;

  @Test
  @Timeout(300)
  void twoJavaRanksSaveADirectoryThatAOneProcessPythonJobLoadsBitExact() throws Exception {
    Path source = TestData.dir("dcp").resolve("source.pt");
    Path dir = tmp.resolve("java2");
    run(2, g -> {
      try (LoadedCheckpoint ckpt = CheckpointLoader.load(source, LoadOptions.defaults())) {
        DistributedDcp.save(g, dir, (Map<?, ?>) ckpt.root(), ckpt, SaveOptions.defaults());
      }
    });
    for (int r = 0; r < 2; r++) {
      assertTrue(Files.isRegularFile(dir.resolve(DcpLayout.dataFileName(r, 0))), "rank " + r);
    }
    Map<String, Object> c = new LinkedHashMap<>();
    c.put("id", "java-2-ranks");
    c.put("dir", dir.toString());
    c.put("source", source.toString());
    c.put("ranks", 2);
    assertEquals(Map.of("java-2-ranks", "ok"), DcpCheck.run(tmp.resolve("check"), List.of(c)));
  }

  @Test
  @Timeout(120)
  void pythonsTwoRankSaveLoadsInOneAndTwoJavaRanksBitExact() throws Exception {
    Path ranks2 = TestData.dir("dcp").resolve("ranks2");
    Map<String, String> python = new LinkedHashMap<>();
    for (JsonNode e : JSON.readTree(TestData.dir("dcp").resolve("ranks2.expected.json").toFile())
        .get("entries")) {
      if (!e.get("kind").asText().equals("tensor")) continue;
      List<String> path = JSON.convertValue(e.get("path"), List.class);
      python.put(String.join(".", path), e.get("sha256").asText());
    }
    for (int world : new int[] {1, 2}) {
      Map<String, String> got = new ConcurrentHashMap<>();
      run(world, g -> {
        Map<String, Tensor> targets = allocated(ranks2);
        DistributedDcp.load(g, ranks2, targets);
        for (Map.Entry<String, Tensor> t : targets.entrySet()) {
          String sha = TensorBytes.sha256(t.getValue());
          String before = got.putIfAbsent(t.getKey(), sha);
          assertTrue(before == null || before.equals(sha), "ranks differ on " + t.getKey());
          t.getValue().close();
        }
      });
      assertEquals(python, got, "world " + world);
    }
  }

  @Test
  @Timeout(120)
  void ranksWhoseStateDictsDifferAreRefusedBeforeAnythingIsWrittenAndTheSameStructureSaves()
      throws Exception {
    Path dir = tmp.resolve("differ");
    run(2, g -> {
      try (Tensor w = torch.ones(3); Tensor extra = torch.zeros(2)) {
        Map<String, Object> sd = new LinkedHashMap<>(Map.of("w", w));
        if (g.rank() == 1) sd.put("extra", extra);
        assertRefused(Kind.INVALID_VALUE, () -> DistributedDcp.save(g, dir, sd));
        assertFalse(Files.exists(dir), "nothing written");
        // The hint applied: the same structure on every rank.
        DistributedDcp.save(g, dir, Map.of("w", w));
      }
    });
    assertTrue(Files.isRegularFile(dir.resolve(DcpLayout.METADATA_FILE)));
  }

  @Test
  @Timeout(120)
  void aRankThatCannotWriteFailsEveryRankAndLeavesNoDirectory() throws Exception {
    Path missing = tmp.resolve("no-such-parent").resolve("ckpt");
    run(2, g -> {
      try (Tensor w = torch.ones(4)) {
        // Rank 0 cannot make the directory: rank 0 says why, rank 1 names rank 0.
        var e = assertRefused(g.rank() == 0 ? Kind.NOT_FOUND : Kind.PEER_FAILED,
            () -> DistributedDcp.save(g, missing, Map.of("w", w)));
        if (g.rank() == 1) assertTrue(e.getMessage().contains("rank 0"), e.getMessage());
        g.barrier();
        if (g.rank() == 0) Files.createDirectories(missing.getParent()); // rank 0's hint
        g.barrier();
        DistributedDcp.save(g, missing, Map.of("w", w));
      }
    });
    assertTrue(Files.isRegularFile(missing.resolve(DcpLayout.dataFileName(1, 0))));
  }

  @Test
  @Timeout(120)
  void loadingAKeyTheDirectoryLacksOrWithAnotherShapeIsRefused() throws Exception {
    Path ranks2 = TestData.dir("dcp").resolve("ranks2");
    run(1, g -> {
      try (Tensor wrongShape = torch.zeros(7, 5); Tensor right = torch.zeros(7, 4);
          Tensor any = torch.zeros(1)) {
        assertRefused(Kind.STATE_DICT_MISMATCH,
            () -> DistributedDcp.load(g, ranks2, Map.of("model.nope", any)));
        assertRefused(Kind.STATE_DICT_MISMATCH,
            () -> DistributedDcp.load(g, ranks2, Map.of("model.rows", wrongShape)));
        // The hints applied: load only keys it saved, allocated as saved.
        DistributedDcp.load(g, ranks2, Map.of("model.rows", right));
        assertEquals(7 * 4, right.numel());
      }
    });
  }

  /** Zeros of every tensor's shape and dtype in {@code dir}, by DCP key. */
  private static Map<String, Tensor> allocated(Path dir) throws Exception {
    Map<String, Tensor> targets = new LinkedHashMap<>();
    try (LoadedCheckpoint ckpt = CheckpointLoader.load(dir, LoadOptions.defaults())) {
      collect("", ckpt.root(), ckpt, targets);
    }
    return targets;
  }

  private static void collect(String prefix, Object node, LoadedCheckpoint ckpt,
      Map<String, Tensor> out) throws Exception {
    if (node instanceof Map<?, ?> m) {
      for (Map.Entry<?, ?> e : m.entrySet()) {
        collect(prefix.isEmpty() ? e.getKey().toString() : prefix + "." + e.getKey(),
            e.getValue(), ckpt, out);
      }
    } else if (node instanceof TensorRef ref) {
      try (Tensor t = ckpt.tensor(ref)) {
        out.put(prefix, torch.zeros_like(t));
      }
    }
  }

  /** Runs {@code body} on Java ranks 0..world-1 of a fresh loopback group, bounded. */
  private static void run(int world, Ranks.Body body) throws Exception {
    ExecutorService pool = Ranks.pool(world);
    try {
      int[] ranks = java.util.stream.IntStream.range(0, world).toArray();
      Ranks.await(Ranks.startJava(pool, Ranks.freePort(), world, TIMEOUT, body, ranks));
    } finally {
      pool.shutdownNow();
    }
  }
}
