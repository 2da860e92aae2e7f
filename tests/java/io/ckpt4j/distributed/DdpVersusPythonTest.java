package io.ckpt4j.distributed;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.ckpt4j.ChildJvm;
import io.ckpt4j.load.CheckpointLoader;
import io.ckpt4j.load.LoadOptions;
import io.ckpt4j.load.LoadedCheckpoint;
import io.ckpt4j.statedict.StateDict;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The bar: a small CNN (dist_peer.py's SmallCnn, initial weights from
 * {@code torch.manual_seed} in Python) trained 5 SGD steps by 2 ranks on halves of one batch, in
 * three jobs: 2 Python ranks with {@code torch.nn.parallel.DistributedDataParallel} (the
 * reference), 2 Java rank processes with {@link DistributedDataParallel}, and 1 Java rank with 1
 * Python rank in one group. Every final weight of the Java jobs and of the mixed job's Python
 * rank is within {@link #TOLERANCE} of the Python DDP job's. Each job on 127.0.0.1, one
 * LibTorch thread per rank, every wait bounded.
 */
class DdpVersusPythonTest {
  private static final double TOLERANCE = 1e-6;
  private static final long TIMEOUT_S = 60;
  private static final ObjectMapper JSON = new ObjectMapper();

  @TempDir Path dir;

  @Test
  @Timeout(420)
  void javaRanksAndAMixedJobEndOnPythonDdpsWeights() throws Exception {
    Path pyOut = dir.resolve("python_ddp.out");
    JsonNode reference = JSON.readTree(Ranks.finish(Ranks.python(pyOut, "cnn_ddp",
        dir.toString()), pyOut));
    Path init = dir.resolve("init.pt");

    // Two Java rank processes (torchrun's environment), and at the same time Java rank 0 (a
    // process) with a Python rank 1 in another group.
    int port = Ranks.freePort();
    int mixedPort = Ranks.freePort();
    Path peerOut = dir.resolve("peer.out");
    Process peer = Ranks.python(peerOut, "cnn_peer", Ranks.LOOPBACK, String.valueOf(mixedPort),
        "1", "2", String.valueOf(TIMEOUT_S), init.toString());
    List<Process> javas = new ArrayList<>();
    JsonNode python;
    try {
      for (int r = 0; r < 2; r++) javas.add(javaRank(port, r, init, dir.resolve("java2.pt")));
      javas.add(javaRank(mixedPort, 0, init, dir.resolve("mixed.pt")));
      finishJava(javas.get(0), dir.resolve("java2.pt"), 0);
      finishJava(javas.get(1), dir.resolve("java2.pt"), 1);
      finishJava(javas.get(2), dir.resolve("mixed.pt"), 0);
      python = JSON.readTree(Ranks.finish(peer, peerOut));
    } finally {
      for (Process p : javas) p.destroyForcibly();
      peer.destroyForcibly();
    }
    double java2 = maxDiff(reference, finals(dir.resolve("java2.pt")));
    double mixedJava = maxDiff(reference, finals(dir.resolve("mixed.pt")));
    double mixedPython = maxDiff(reference, python);
    System.out.printf("SmallCnn, 5 DDP steps, max |x - Python DDP|: 2 Java ranks %.3g; Java +"
        + " Python: Java rank %.3g, Python rank %.3g%n", java2, mixedJava, mixedPython);
    assertTrue(java2 <= TOLERANCE, "2 Java ranks: " + java2);
    assertTrue(mixedJava <= TOLERANCE, "mixed job, Java rank: " + mixedJava);
    assertTrue(mixedPython <= TOLERANCE, "mixed job, Python rank: " + mixedPython);
  }

  private static Process javaRank(int port, int rank, Path init, Path out) throws Exception {
    ProcessBuilder pb = new ProcessBuilder(ChildJvm.command(List.of(), DdpRankMain.class,
        init.toString(), out.toString(), String.valueOf(TIMEOUT_S)));
    pb.environment().putAll(Map.of("MASTER_ADDR", Ranks.LOOPBACK, "MASTER_PORT",
        String.valueOf(port), "RANK", String.valueOf(rank), "WORLD_SIZE", "2",
        "OMP_NUM_THREADS", "1"));
    return pb.redirectErrorStream(true).redirectOutput(log(out, rank).toFile()).start();
  }

  private static Path log(Path out, int rank) {
    return out.resolveSibling(out.getFileName() + "." + rank + ".log");
  }

  private static void finishJava(Process p, Path out, int rank) throws Exception {
    assertTrue(p.waitFor(Ranks.RUN_SECONDS, TimeUnit.SECONDS), "Java rank " + rank
        + " did not finish");
    assertEquals(0, p.exitValue(), "Java rank " + rank + " of " + out.getFileName() + ": "
        + Files.readString(log(out, rank)));
  }

  /** The state_dict a Java rank 0 saved, as JSON lists like Python's. */
  private static JsonNode finals(Path file) throws Exception {
    var out = JSON.createObjectNode();
    try (LoadedCheckpoint ckpt = CheckpointLoader.load(file, LoadOptions.defaults());
        StateDict sd = StateDict.from(ckpt)) {
      for (String key : sd.keys()) {
        var values = out.putArray(key);
        for (double v : CollectiveCases.values(sd.get(key))) values.add(v);
      }
    }
    return out;
  }

  private static double maxDiff(JsonNode reference, JsonNode got) {
    assertEquals(iterableKeys(reference), iterableKeys(got), "state_dict keys");
    double max = 0;
    for (var e : reference.properties()) {
      JsonNode mine = got.get(e.getKey());
      assertEquals(e.getValue().size(), mine.size(), e.getKey());
      for (int i = 0; i < mine.size(); i++) {
        max = Math.max(max, Math.abs(mine.get(i).asDouble() - e.getValue().get(i).asDouble()));
      }
    }
    return max;
  }

  private static List<String> iterableKeys(JsonNode node) {
    List<String> keys = new ArrayList<>();
    node.fieldNames().forEachRemaining(keys::add);
    return keys;
  }
}
