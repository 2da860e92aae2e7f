package io.ckpt4j.checkpoint;

import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.ckpt4j.checkpoint.optim.Optimizer;
import io.ckpt4j.checkpoint.optim.OptimizerStateDict;
import io.ckpt4j.checkpoint.optim.ParamGroup;
import io.ckpt4j.load.CheckpointLoader;
import io.ckpt4j.load.LoadedCheckpoint;
import io.ckpt4j.value.TensorRef;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The optimizers' arithmetic without a model: the parameters and gradients Python recorded
 * (tests/python/training_replay.py), the same K steps in Java. No forward or backward pass is
 * involved, so Java's optimizers — Python 2.13's single-tensor updates, op for op — must give
 * Python's parameters and state to a few float32 ulps (bit for bit where the wheel's CPU kernels
 * and the presets' agree: SGD, plain Adam; the wheel's AVX512 float sqrt is not correctly
 * rounded). Each case's distance from Python is printed.
 */
class OptimizerReplayTest {
  private static final List<String> MEASURED = new ArrayList<>();

  private static JsonNode index() throws Exception {
    return TrainingRun.JSON.readTree(TrainingFixtures.root().resolve("replay.json").toFile());
  }

  static Stream<String> cases() throws Exception {
    JsonNode index = index();
    List<String> names = new ArrayList<>();
    index.get("cases").forEach(c -> names.add(c.get("name").asText()));
    return names.stream();
  }

  private static JsonNode spec(String name) throws Exception {
    JsonNode index = index();
    for (JsonNode c : index.get("cases")) if (c.get("name").asText().equals(name)) return c;
    throw new IllegalArgumentException(name);
  }

  @AfterAll
  static void report() {
    MEASURED.forEach(System.out::println);
  }

  @ParameterizedTest
  @MethodSource("cases")
  void optimizersArePythonsToTheLastBits(String name) throws Exception {
    double[] diffs = replay(name);
    double ulps = index().get("tolerance").asDouble();
    assertTrue(diffs[0] <= ulps, name + ": parameters differ from Python's by " + diffs[0]);
    assertTrue(diffs[1] <= ulps, name + ": optimizer state differs from Python's by " + diffs[1]);
  }

  private static double[] replay(String name) throws Exception {
    torch.set_num_threads(1);
    try (LoadedCheckpoint ckpt = CheckpointLoader.load(
        TrainingFixtures.root().resolve("replay").resolve(name + ".pt"), TrainingFixtures.LOAD)) {
      Map<?, ?> root = (Map<?, ?>) ckpt.root();
      List<Tensor> params = new ArrayList<>();
      for (Object ref : (List<?>) root.get("init")) {
        Tensor p = ckpt.tensor((TensorRef) ref).clone();
        p.set_requires_grad(true);
        params.add(p);
      }
      try (Optimizer opt = TrainingRun.optimizer(spec(name).get("optimizer"),
          List.of(ParamGroup.of(params)))) {
        for (Object step : (List<?>) root.get("grads")) {
          List<?> grads = (List<?>) step;
          for (int i = 0; i < params.size(); i++) {
            params.get(i).mutable_grad().put(ckpt.tensor((TensorRef) grads.get(i)).clone());
          }
          opt.step();
        }
        double paramDiff = 0;
        List<?> fin = (List<?>) root.get("final");
        for (int i = 0; i < params.size(); i++) {
          paramDiff = Math.max(paramDiff, TrainingFixtures.maxAbsDiff(params.get(i),
              ckpt.tensor((TensorRef) fin.get(i)), "param " + i));
        }
        try (OptimizerStateDict expected = OptimizerStateDict.fromTree(root.get("optimizer"), ckpt);
            OptimizerStateDict actual = opt.stateDict()) {
          double stateDiff = TrainingFixtures.maxAbsDiff(actual, expected);
          PyAssert.assertPythonEquals(expected.paramGroups(), actual.paramGroups(),
              name + " param_groups");
          MEASURED.add(String.format("replay %-22s params %.3g  state %.3g", name, paramDiff,
              stateDiff));
          return new double[] {paramDiff, stateDiff};
        }
      } finally {
        params.forEach(Tensor::close);
      }
    }
  }
}
