package io.ckpt4j.checkpoint;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import io.ckpt4j.checkpoint.optim.Optimizer;
import io.ckpt4j.checkpoint.optim.OptimizerStateDict;
import io.ckpt4j.checkpoint.optim.ParamGroup;
import io.ckpt4j.checkpoint.sched.LRScheduler;
import io.ckpt4j.load.CheckpointLoader;
import io.ckpt4j.load.LoadedCheckpoint;
import io.ckpt4j.value.PyTuple;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Each LR scheduler against Python's numbers (tests/python/training_replay.py): two param groups
 * with their own lr, K steps; every lr (and the momentum or beta1 OneCycleLR cycles) must be
 * Python's double exactly; at step {@code resume_at} the scheduler's state dict and the
 * optimizer's groups must be Python's (keys, order, int vs float); and a fresh optimizer and
 * scheduler that load Python's state dicts at that step must go on exactly as Python went on.
 */
class SchedulerArithmeticTest {
  static Stream<String> cases() throws Exception {
    List<String> names = new ArrayList<>();
    index().get("cases").forEach(c -> names.add(c.get("name").asText()));
    return names.stream();
  }

  private static JsonNode index() throws Exception {
    return TrainingRun.JSON.readTree(TrainingFixtures.root().resolve("schedules.json").toFile());
  }

  private static JsonNode spec(String name) throws Exception {
    for (JsonNode c : index().get("cases")) if (c.get("name").asText().equals(name)) return c;
    throw new IllegalArgumentException(name);
  }

  /** The optimizer Python built: SGD(momentum) or Adam, two groups with their lrs. */
  private static Optimizer optimizer(JsonNode spec, List<Tensor> params) throws Exception {
    JsonNode index = index();
    List<ParamGroup> groups = new ArrayList<>();
    for (int i = 0; i < params.size(); i++) {
      groups.add(ParamGroup.of(List.of(params.get(i)))
          .set(ParamGroup.LR, index.get("group_lrs").get(i).asDouble()));
    }
    String kind = spec.path("optimizer").asText("SGD");
    JsonNode opt = "Adam".equals(kind)
        ? TrainingRun.JSON.readTree("{\"type\": \"Adam\", \"kwargs\": {}}")
        : TrainingRun.JSON.createObjectNode().put("type", "SGD").set("kwargs", TrainingRun.JSON
            .createObjectNode().put("momentum", index.get("sgd_momentum").asDouble()));
    return TrainingRun.optimizer(opt, groups);
  }

  @ParameterizedTest
  @MethodSource("cases")
  void lrsAndStateDictsArePythons(String name) throws Exception {
    JsonNode spec = spec(name);
    List<Tensor> params = List.of(torch.zeros(2), torch.zeros(3));
    Path file = TrainingFixtures.root().resolve("schedules").resolve(name + ".pt");
    try (LoadedCheckpoint py = CheckpointLoader.load(file, TrainingFixtures.LOAD);
        Optimizer opt = optimizer(spec, params)) {
      Map<?, ?> root = (Map<?, ?>) py.root();
      int resumeAt = ((Number) root.get("resume_at")).intValue();
      List<?> lrs = (List<?>) root.get("lrs");
      List<?> momenta = (List<?>) root.get("momenta");
      LRScheduler sched = TrainingRun.scheduler(spec.get("scheduler"), opt);
      for (int i = 1; i <= lrs.size(); i++) {
        sched.step();
        assertEquals(lrs.get(i - 1), groupValues(opt, false), name + ": lrs after step " + i);
        assertEquals(momenta.get(i - 1), groupValues(opt, true),
            name + ": momentum after step " + i);
        if (i == resumeAt) {
          PyAssert.assertPythonEquals(root.get("state_at"), sched.stateDict(),
              name + " state_dict");
          try (OptimizerStateDict expected =
                  OptimizerStateDict.fromTree(root.get("optimizer_at"), py);
              OptimizerStateDict mine = opt.stateDict()) {
            PyAssert.assertPythonEquals(expected.paramGroups(), mine.paramGroups(),
                name + " param_groups");
          }
        }
      }
      // resume at resume_at from Python's state dicts, as a training script would
      try (Optimizer resumed = optimizer(spec, params);
          OptimizerStateDict saved = OptimizerStateDict.fromTree(root.get("optimizer_at"), py)) {
        LRScheduler again = TrainingRun.scheduler(spec.get("scheduler"), resumed);
        resumed.loadStateDict(saved);
        again.loadStateDict((Map<?, ?>) root.get("state_at"));
        for (int i = resumeAt + 1; i <= lrs.size(); i++) {
          again.step();
          assertEquals(lrs.get(i - 1), groupValues(resumed, false),
              name + ": lrs after step " + i + " of the resumed run");
          assertEquals(momenta.get(i - 1), groupValues(resumed, true),
              name + ": momentum after step " + i + " of the resumed run");
        }
      }
    } finally {
      params.forEach(Tensor::close);
    }
  }

  /** Each group's lr, or its momentum (beta1 for Adam), as Python's floats. */
  private static List<Object> groupValues(Optimizer opt, boolean momentum) {
    List<Object> out = new ArrayList<>();
    for (ParamGroup g : opt.paramGroups()) {
      if (!momentum) {
        out.add(g.get(ParamGroup.LR));
      } else {
        Object betas = g.get("betas");
        Object m = betas instanceof PyTuple t ? t.get(0) : g.get("momentum");
        out.add(m instanceof Number n ? n.doubleValue() : m);
      }
    }
    return out;
  }
}
