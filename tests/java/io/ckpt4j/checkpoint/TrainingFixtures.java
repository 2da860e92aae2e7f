package io.ckpt4j.checkpoint;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import io.ckpt4j.CheckpointException;
import io.ckpt4j.TestData;
import io.ckpt4j.checkpoint.optim.OptimizerStateDict;
import io.ckpt4j.load.CheckpointLoader;
import io.ckpt4j.load.LoadOptions;
import io.ckpt4j.load.LoadedCheckpoint;
import io.ckpt4j.statedict.StateDict;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.bytedeco.pytorch.Tensor;

/**
 * The files tests/python/make_training.py writes into {@code ckpt4j.testdata/training} and the
 * comparisons the resume tests make on them.
 */
final class TrainingFixtures {
  static final String DIR = "training";
  /** Options that read every case: map_location cpu, the Namespace args as an inert object. */
  static final LoadOptions LOAD = LoadOptions.defaults().mapLocation("cpu")
      .allowGlobals("argparse.Namespace");

  private TrainingFixtures() {}

  static Path root() {
    return TestData.dir(DIR);
  }

  static JsonNode index() throws IOException {
    return TrainingRun.JSON.readTree(root().resolve("index.json").toFile());
  }

  /** The case names, for parameterized tests. */
  static Stream<String> cases() throws IOException {
    List<String> names = new ArrayList<>();
    index().get("cases").forEach(c -> names.add(c.asText()));
    return names.stream();
  }

  /** A case's args.json: the {@code vars(args)} its checkpoint holds, as Python values. */
  static Map<String, Object> args(Path caseDir) throws IOException {
    JsonNode json = TrainingRun.JSON.readTree(caseDir.resolve("args.json").toFile());
    Map<String, Object> out = new LinkedHashMap<>();
    json.fields().forEachRemaining(e -> out.put(e.getKey(), TrainingRun.python(e.getValue())));
    return out;
  }

  static double tolerance() throws IOException {
    return index().get("tolerance").asDouble();
  }

  /** Loads init.pt (the seeded initial weights) into the run's model, strictly. */
  static void loadInitialWeights(TrainingRun run) throws CheckpointException {
    try (LoadedCheckpoint ckpt = CheckpointLoader.load(root().resolve("init.pt"), LOAD);
        StateDict init = StateDict.from(ckpt)) {
      init.loadInto(run.net.module);
    }
  }

  /** Largest |a - b| over the tensors two state dicts share; their keys must be the same. */
  static double maxAbsDiff(StateDict a, StateDict b) {
    assertEquals(List.copyOf(b.keys()), List.copyOf(a.keys()), "state_dict keys");
    double worst = 0;
    for (String key : a.keys()) worst = Math.max(worst, maxAbsDiff(a.get(key), b.get(key), key));
    return worst;
  }

  static double maxAbsDiff(Tensor a, Tensor b, String what) {
    assertEquals(List.of(OptimShapes.of(b)), List.of(OptimShapes.of(a)), what + " shape");
    if (a.numel() == 0) return 0;
    try (Tensor d = a.to(org.bytedeco.pytorch.global.torch.ScalarType.Double)
        .sub(b.to(org.bytedeco.pytorch.global.torch.ScalarType.Double)).abs().max()) {
      return d.item_double();
    }
  }

  /** Largest |a - b| over the state tensors of two optimizer state dicts with the same layout. */
  static double maxAbsDiff(OptimizerStateDict a, OptimizerStateDict b) {
    assertEquals(List.copyOf(b.state().keySet()), List.copyOf(a.state().keySet()),
        "optimizer state: parameter indices");
    double worst = 0;
    for (Map.Entry<Long, Map<String, Object>> e : b.state().entrySet()) {
      Map<String, Object> mine = a.state().get(e.getKey());
      assertEquals(List.copyOf(e.getValue().keySet()), List.copyOf(mine.keySet()),
          "optimizer state of parameter " + e.getKey());
      for (Map.Entry<String, Object> v : e.getValue().entrySet()) {
        if (v.getValue() instanceof Tensor t) {
          worst = Math.max(worst, maxAbsDiff((Tensor) mine.get(v.getKey()), t,
              "state[" + e.getKey() + "]['" + v.getKey() + "']"));
        }
      }
    }
    return worst;
  }

  /** The sizes of a tensor, as a string ("[4, 3, 3, 3]"). */
  static final class OptimShapes {
    static String of(Tensor t) {
      try (org.bytedeco.pytorch.LongArrayRef sizes = t.sizes()) {
        long[] out = new long[(int) sizes.size()];
        for (int i = 0; i < out.length; i++) out[i] = sizes.get(i);
        return java.util.Arrays.toString(out);
      }
    }
  }
}
