package io.ckpt4j.distributed;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.ckpt4j.checkpoint.Checkpoint;
import io.ckpt4j.checkpoint.optim.Optimizer;
import io.ckpt4j.checkpoint.optim.SGD;
import io.ckpt4j.statedict.StateDict;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.StringTensorDict;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Checkpoints of a DDP job and a resume on another world size: Java ranks (threads, each its own
 * group member) train epoch 0 of TinyMlp with SGD (momentum) over a DistributedSampler, rank 0
 * saves the initial state_dict ({@code torch.save(ddp.module.state_dict())}) and the training
 * checkpoint ({@code model, optimizer, epoch}) behind a barrier; a job of another world size
 * (2 then 1, 1 then 2) resumes it for epoch 1. A W-rank step covers the samples a 1-rank step of
 * W times the batch does (rank r takes every W-th index of the epoch's permutation), so both
 * must end where Python's single-process run of the same two epochs from the same initial
 * weights ends (tests/python/dist_peer.py resume), within {@link #TOLERANCE}; Python also loads
 * each epoch-0 checkpoint ({@code weights_only=True}) and finds its own weights and momentum.
 */
class DistributedResumeTest {
  /** Float32 rounding: W partial means averaged vs one mean, over 8 momentum steps. */
  private static final double TOLERANCE = 1e-6;
  private static final Duration TIMEOUT = Duration.ofSeconds(60);
  /** dist_peer.py's RESUME_* and MOMENTUM. */
  private static final long SIZE = 16;
  private static final long GLOBAL_BATCH = 4;
  private static final long SEED = 5;
  private static final double LR = 0.1;
  private static final double MOMENTUM = 0.9;

  @TempDir Path dir;

  @Test
  @Timeout(300)
  void aJobResumedOnAnotherWorldSizeEndsWherePythonsOneProcessRunEnds() throws Exception {
    Map<String, double[]> twoToOne = new ConcurrentHashMap<>();
    Map<String, double[]> oneToTwo = new ConcurrentHashMap<>();
    job(2, dir.resolve("a-init.pt"), null, dir.resolve("a-epoch0.pt"), null);
    job(1, null, dir.resolve("a-epoch0.pt"), dir.resolve("a-epoch1.pt"), twoToOne);
    job(1, dir.resolve("b-init.pt"), null, dir.resolve("b-epoch0.pt"), null);
    job(2, null, dir.resolve("b-epoch0.pt"), dir.resolve("b-epoch1.pt"), oneToTwo);

    Path out = dir.resolve("resume.json");
    Process python = Ranks.python(out, "resume", dir.resolve("a-init.pt").toString(),
        dir.resolve("a-epoch0.pt").toString(), dir.resolve("b-init.pt").toString(),
        dir.resolve("b-epoch0.pt").toString());
    JsonNode reports = new ObjectMapper().readTree(Ranks.finish(python, out));
    compare("2 -> 1", reports.get(0), twoToOne);
    compare("1 -> 2", reports.get(1), oneToTwo);
  }

  private static void compare(String what, JsonNode python, Map<String, double[]> java) {
    assertEquals(0, python.get("ckpt_epoch").asInt(), what);
    assertTrue(python.get("ckpt_model_diff").asDouble() <= TOLERANCE, what + ": epoch-0 model "
        + python.get("ckpt_model_diff"));
    assertTrue(python.get("ckpt_momentum_diff").asDouble() <= TOLERANCE, what
        + ": epoch-0 momentum " + python.get("ckpt_momentum_diff"));
    double max = 0;
    for (Map.Entry<String, JsonNode> e : python.get("final").properties()) {
      double[] mine = java.get(e.getKey());
      assertEquals(e.getValue().size(), mine.length, e.getKey());
      for (int i = 0; i < mine.length; i++) {
        max = Math.max(max, Math.abs(mine[i] - e.getValue().get(i).asDouble()));
      }
    }
    assertEquals(python.get("final").size(), java.size(), what + ": keys");
    System.out.printf("resume %s: max |Java - Python single process| = %.3g%n", what, max);
    assertTrue(max <= TOLERANCE, what + ": final weights differ by " + max);
  }

  /**
   * One job of {@code world} ranks and one epoch: fresh (rank 0 saves {@code init}) or resumed
   * from {@code resume}; saves the training checkpoint {@code save}; the final parameters by
   * name go to {@code finals} (every rank's must be the same).
   */
  private static void job(int world, Path init, Path resume, Path save,
      Map<String, double[]> finals) throws Exception {
    ExecutorService pool = Ranks.pool(world);
    try {
      Ranks.await(Ranks.startJava(pool, Ranks.freePort(), world, TIMEOUT,
          g -> rank(g, init, resume, save, finals), IntStream.range(0, world).toArray()));
    } finally {
      pool.shutdownNow();
      pool.awaitTermination(TIMEOUT.toSeconds(), TimeUnit.SECONDS);
    }
  }

  private static void rank(ProcessGroup g, Path init, Path resume, Path save,
      Map<String, double[]> finals) throws Exception {
    DistributedDataParallelTest.TinyMlp model = new DistributedDataParallelTest.TinyMlp();
    try (Optimizer optimizer = new SGD(model.module().parameters(),
        SGD.options().lr(LR).momentum(MOMENTUM)); PointerScope scope = new PointerScope()) {
      long epoch = 0;
      if (resume != null) {
        try (Checkpoint ckpt = Checkpoint.load(resume)) {
          ckpt.model().loadInto(model.module());
          optimizer.loadStateDict(ckpt.optimizer());
          epoch = ckpt.epoch() + 1;
        }
      }
      try (DistributedDataParallel<DistributedDataParallelTest.TinyMlp> ddp =
          DistributedDataParallel.of(model, g)) {
        if (init != null) ddp.saveModuleStateDict(init);
        Tensor x = torch.arange(new Scalar(SIZE * 4), new TensorOptions(torch.ScalarType.Float))
            .reshape(SIZE, 4).mul(new Scalar(0.05)).sub(new Scalar(0.7));
        Tensor y = x.sum(new long[] {1}, true, new org.bytedeco.pytorch.ScalarTypeOptional())
            .mul(new Scalar(0.3)).add(new Scalar(0.1));
        DistributedSampler sampler = new DistributedSampler(SIZE, g.worldSize(), g.rank(), true,
            SEED, false);
        sampler.setEpoch(epoch);
        long[] mine = sampler.indices();
        int batch = (int) (GLOBAL_BATCH / g.worldSize());
        for (int start = 0; start < mine.length; start += batch) {
          Tensor idx = torch.tensor(java.util.Arrays.copyOfRange(mine, start, start + batch));
          optimizer.zeroGrad();
          ddp.backward(torch.mse_loss(ddp.forward(x.index_select(0, idx)), y.index_select(0, idx)));
          optimizer.step();
        }
        try (Checkpoint ckpt = Checkpoint.create().model(StateDict.of(model.module()))
            .optimizer(optimizer.stateDict()).epoch(epoch)) {
          ckpt.save(save, g);
        }
      }
      if (finals == null) return;
      StringTensorDict named = model.module().named_parameters(true);
      for (long i = 0; i < named.size(); i++) {
        double[] values = CollectiveCases.values(named.get(i).value());
        double[] before = finals.putIfAbsent(named.get(i).key().getString(), values);
        if (before != null) assertArrayEquals(before, values, "ranks differ");
      }
    }
  }
}
