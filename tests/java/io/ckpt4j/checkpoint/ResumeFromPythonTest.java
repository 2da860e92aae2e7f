package io.ckpt4j.checkpoint;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.ckpt4j.checkpoint.TrainingRun.Batches;
import io.ckpt4j.checkpoint.optim.OptimizerStateDict;
import io.ckpt4j.load.CheckpointLoader;
import io.ckpt4j.load.LoadedCheckpoint;
import io.ckpt4j.statedict.LoadStateDictOptions;
import io.ckpt4j.statedict.StateDict;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Python trained N steps and saved a training checkpoint (ckpt.pt), then went on M steps
 * (final.pt). Java loads ckpt.pt with {@link Checkpoint}, builds the model, optimizer and
 * scheduler the case describes, loads the three state dicts, trains the same M steps on the same
 * batches and must land on Python's weights and optimizer state (max abs diff within the
 * generator's tolerance, float32) and on Python's learning rates, step for step.
 */
class ResumeFromPythonTest {
  private static Batches data;
  private static final List<String> MEASURED = new ArrayList<>();

  @BeforeAll
  static void single() throws Exception {
    torch.set_num_threads(1);
    data = new Batches(TrainingFixtures.root().resolve("data.pt"));
  }

  @AfterAll
  static void report() {
    if (data != null) data.close();
    MEASURED.forEach(System.out::println);
  }

  static java.util.stream.Stream<String> cases() throws Exception {
    return TrainingFixtures.cases();
  }

  @ParameterizedTest
  @MethodSource("cases")
  void javaContinuesThePythonRun(String name) throws Exception {
    Path dir = TrainingFixtures.root().resolve(name);
    JsonNode spec = TrainingRun.spec(dir);
    double tolerance = TrainingFixtures.tolerance();
    try (TrainingRun run = new TrainingRun(spec)) {
      try (Checkpoint ckpt = Checkpoint.load(dir.resolve("ckpt.pt"), TrainingFixtures.LOAD)) {
        assertEquals(List.of("model", "optimizer", "lr_scheduler", "epoch", "args", "rng_state"),
            ckpt.keys());
        ckpt.model().loadInto(run.net.module,
            LoadStateDictOptions.defaults().fixModulePrefix(true));
        run.optimizer.loadStateDict(ckpt.optimizer());
        run.scheduler.loadStateDict(ckpt.lrScheduler());
        assertEquals(run.nSteps(), ckpt.epoch());
        assertEquals("namespace".equals(spec.get("args").asText()), ckpt.argsWasNamespace());
        assertEquals(TrainingFixtures.args(dir), ckpt.args(), "args");
        Object rng = ckpt.get("rng_state");
        assertTrue(rng instanceof Tensor t
            && t.scalar_type().intern() == torch.ScalarType.Byte && t.dim() == 1,
            "rng_state: a 1-d uint8 tensor, not " + rng);
      }
      run.train(data, run.nSteps(), run.mSteps());

      try (LoadedCheckpoint fin = CheckpointLoader.load(dir.resolve("final.pt"),
              TrainingFixtures.LOAD);
          StateDict expectedModel = StateDict.fromTree(root(fin).get("model"), fin);
          StateDict plainExpected = expectedModel.detectPrefixes().isEmpty() ? null
              : expectedModel.stripPrefix();
          StateDict model = StateDict.of(run.net.module);
          OptimizerStateDict expectedOpt = OptimizerStateDict.fromTree(root(fin).get("optimizer"),
              fin);
          OptimizerStateDict opt = run.optimizer.stateDict()) {
        double weights = TrainingFixtures.maxAbsDiff(model,
            plainExpected != null ? plainExpected : expectedModel);
        double state = TrainingFixtures.maxAbsDiff(opt, expectedOpt);
        List<List<Double>> expectedLrs = lists(root(fin).get("lrs"));
        List<Double> expectedLosses = doubles(root(fin).get("losses"));
        MEASURED.add(String.format(
            "%-34s weights %.3g  optimizer state %.3g  lrs %s  losses %.3g", name,
            weights, state, expectedLrs.equals(run.lrs) ? "equal" : "DIFFER",
            maxDiff(expectedLosses, run.losses)));
        assertTrue(weights <= tolerance, name + ": weights differ from Python's by " + weights);
        assertTrue(state <= tolerance, name + ": optimizer state differs by " + state);
        assertEquals(expectedLrs, run.lrs, name + ": learning rates, step by step");
        assertTrue(maxDiff(expectedLosses, run.losses) <= tolerance, name + ": losses "
            + run.losses + " vs Python's " + expectedLosses);
      }
    }
  }

  private static Map<?, ?> root(LoadedCheckpoint ckpt) {
    return (Map<?, ?>) ckpt.root();
  }

  private static List<List<Double>> lists(Object value) {
    List<List<Double>> out = new ArrayList<>();
    for (Object row : (List<?>) value) out.add(doubles(row));
    return out;
  }

  private static List<Double> doubles(Object value) {
    List<Double> out = new ArrayList<>();
    for (Object v : (List<?>) value) out.add(((Number) v).doubleValue());
    return out;
  }

  private static double maxDiff(List<Double> a, List<Double> b) {
    assertEquals(a.size(), b.size());
    double worst = 0;
    for (int i = 0; i < a.size(); i++) worst = Math.max(worst, Math.abs(a.get(i) - b.get(i)));
    return worst;
  }
}
