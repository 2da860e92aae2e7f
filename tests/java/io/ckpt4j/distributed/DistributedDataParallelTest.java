package io.ckpt4j.distributed;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.ckpt4j.nn.TorchModel;
import io.ckpt4j.statedict.StateDict;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.TimeUnit;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.LinearImpl;
import org.bytedeco.pytorch.Module;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.StringTensorDict;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A Java rank (DistributedDataParallel, rank 0) and a Python rank (the same algorithm with
 * torch.distributed calls, tests/python/dist_peer.py ddp) train TinyMlp for 5 SGD steps, each on
 * its half of the batch: both end with the same parameters, equal within {@link #TOLERANCE} to a
 * single-process run on the whole batch from the same initial weights (computed by Python).
 */
class DistributedDataParallelTest {
  /** Float32 rounding of 5 steps: a half-batch mean averaged vs a whole-batch mean. */
  static final double TOLERANCE = 1e-6;
  private static final Duration TIMEOUT = Duration.ofSeconds(60);
  private static final long BATCH = 8;
  private static final long FEATURES = 4;
  private static final long HIDDEN = 8;
  private static final int STEPS = 5;
  private static final double LR = 0.1;
  private static final int WORLD = 2;
  /**
   * Small buckets, so the 4 gradients go in 2 all-reduces; dist_peer.py's BUCKET_BYTES. Every
   * rank must all-reduce the same bucket sizes: a mismatch aborts the process from a Gloo thread.
   */
  private static final long SMALL_BUCKET_BYTES = 64;

  @TempDir Path dir;

  /** dist_peer.py's TinyMlp: fc1 (4 to 8), tanh, fc2 (8 to 1). */
  static final class TinyMlp implements TorchModel {
    private final Module root = new Module("TinyMlp");
    private final LinearImpl fc1 = root.register_module("fc1", new LinearImpl(FEATURES, HIDDEN));
    private final LinearImpl fc2 = root.register_module("fc2", new LinearImpl(HIDDEN, 1));

    @Override
    public Module module() {
      return root;
    }

    @Override
    public Tensor forward(Tensor x) {
      try (PointerScope scope = new PointerScope()) {
        return fc2.forward(torch.tanh(fc1.forward(x))).retainReference();
      }
    }
  }

  @Test
  @Timeout(180)
  void aJavaRankAndAPythonRankTrainOneModel() throws Exception {
    int port = Ranks.freePort();
    Path out = dir.resolve("ddp.json");
    Process python = Ranks.python(out, "ddp", Ranks.LOOPBACK, String.valueOf(port), "1",
        String.valueOf(WORLD), String.valueOf(TIMEOUT.toSeconds()));
    ExecutorService pool = Ranks.pool(1);
    List<String> keys = new ArrayList<>();
    List<double[]> finals = new ArrayList<>();
    long start = System.nanoTime();
    try {
      Ranks.await(Ranks.startJava(pool, port, WORLD, TIMEOUT, g -> train(g, keys, finals), 0));
    } finally {
      pool.shutdownNow();
      if (python.isAlive()) python.waitFor(Ranks.RUN_SECONDS, TimeUnit.SECONDS);
      python.destroyForcibly();
    }
    JsonNode report = new ObjectMapper().readTree(Ranks.finish(python, out));
    List<String> pythonKeys = new ArrayList<>();
    report.get("ddp_keys").forEach(k -> pythonKeys.add(k.asText()));
    assertEquals(pythonKeys, keys, "state_dict keys with module.");
    double maxToPython = 0;
    double maxToReference = 0;
    for (int i = 0; i < keys.size(); i++) {
      String name = keys.get(i).substring("module.".length());
      JsonNode ddp = report.get("ddp").get(name);
      JsonNode reference = report.get("reference").get(name);
      double[] mine = finals.get(i);
      assertEquals(ddp.size(), mine.length, name);
      for (int k = 0; k < mine.length; k++) {
        maxToPython = Math.max(maxToPython, Math.abs(mine[k] - ddp.get(k).asDouble()));
        maxToReference = Math.max(maxToReference, Math.abs(mine[k] - reference.get(k).asDouble()));
      }
    }
    System.out.printf("DDP Java+Python, %d steps: %.1f s; max |Java - Python rank| = %.3g,"
        + " max |Java - single-process reference| = %.3g%n", STEPS,
        (System.nanoTime() - start) / 1e9, maxToPython, maxToReference);
    assertTrue(maxToPython <= TOLERANCE, "Java and Python ranks differ by " + maxToPython);
    assertTrue(maxToReference <= TOLERANCE, "DDP and the reference differ by " + maxToReference);
  }

  /** Rank 0's training loop: DDP over TinyMlp, its half of the batch, SGD. */
  private static void train(ProcessGroup group, List<String> keys, List<double[]> finals)
      throws Exception {
    TinyMlp model = new TinyMlp();
    try (DistributedDataParallel<TinyMlp> ddp = DistributedDataParallel.of(model, group,
        SMALL_BUCKET_BYTES);
        PointerScope scope = new PointerScope()) {
      Tensor x = torch.arange(new Scalar(BATCH * FEATURES), new TensorOptions(torch.ScalarType.Float))
          .reshape(BATCH, FEATURES).mul(new Scalar(0.05)).sub(new Scalar(0.7));
      Tensor y = x.sum(new long[] {1}, true, new org.bytedeco.pytorch.ScalarTypeOptional())
          .mul(new Scalar(0.3)).add(new Scalar(0.1));
      long shard = BATCH / WORLD;
      Tensor xs = x.narrow(0, group.rank() * shard, shard);
      Tensor ys = y.narrow(0, group.rank() * shard, shard);
      for (int step = 0; step < STEPS; step++) {
        ddp.backward(torch.mse_loss(ddp.forward(xs), ys));
        try (NoGradGuard noGrad = new NoGradGuard()) {
          for (Tensor p : model.module().parameters(true).get()) {
            p.add_(p.grad(), new Scalar(-LR));
            p.grad().zero_();
          }
        }
      }
      try (StateDict sd = StateDict.of(ddp)) {
        keys.addAll(sd.keys());
      }
      StringTensorDict named = model.module().named_parameters(true);
      for (long i = 0; i < named.size(); i++) {
        finals.add(CollectiveCases.values(named.get(i).value()));
      }
      group.barrier();
    }
  }
}
