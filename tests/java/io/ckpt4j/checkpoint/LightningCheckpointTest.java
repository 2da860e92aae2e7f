package io.ckpt4j.checkpoint;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.ckpt4j.CheckpointException.Kind;
import io.ckpt4j.Refusals;
import io.ckpt4j.TestData;
import io.ckpt4j.checkpoint.TrainingRun.Batches;
import io.ckpt4j.checkpoint.optim.OptimizerStateDict;
import io.ckpt4j.load.CheckpointLoader;
import io.ckpt4j.load.LoadOptions;
import io.ckpt4j.load.LoadedCheckpoint;
import io.ckpt4j.statedict.StateDict;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * tests/python/make_lightning.py wrote lightning.ckpt: the dict Lightning 2.x's dump_checkpoint
 * builds, for a LightningModule holding SmallNet as {@code self.model}, after N steps of Adam +
 * StepLR; then final.pt after M more steps and end.pt after K more. Java reads the .ckpt
 * ({@link LightningCheckpoint}), resumes M steps and must land on final.pt; it saves java.ckpt,
 * which Python loads with {@code torch.load(weights_only=True)} and resumes K steps to end.pt,
 * and re-saves lightning.ckpt unchanged (roundtrip.ckpt).
 */
class LightningCheckpointTest {
  private static final LoadOptions LOAD = LoadOptions.defaults().mapLocation("cpu");

  private static Path dir;
  private static JsonNode index;

  @BeforeAll
  static void fixtures() throws Exception {
    torch.set_num_threads(1);
    dir = TestData.dir("lightning");
    index = TrainingRun.JSON.readTree(dir.resolve("index.json").toFile());
  }

  @Test
  void readsWhatLightningSaved() throws Exception {
    long n = index.get("n").asLong();
    try (TrainingRun run = new TrainingRun(TrainingRun.spec(dir));
        LightningCheckpoint ckpt = LightningCheckpoint.load(dir.resolve("lightning.ckpt"), LOAD)) {
      assertEquals(List.of("epoch", "global_step", "pytorch-lightning_version", "state_dict",
          "loops", "callbacks", "optimizer_states", "lr_schedulers", "hparams_name",
          "hyper_parameters"), ckpt.keys());
      assertEquals(n, ckpt.epoch());
      assertEquals(n, ckpt.globalStep());
      assertEquals("kwargs", ckpt.get("hparams_name"));
      PyAssert.assertPythonEquals(hparams(), ckpt.hyperParameters(), "hyper_parameters");
      try (StateDict net = ckpt.model(); StateDict mine = StateDict.of(run.net.module)) {
        assertEquals(List.copyOf(mine.keys()), List.copyOf(net.keys()), "model. stripped");
        for (String k : net.keys()) {
          assertTrue(net.get(k).equal(ckpt.stateDict().get("model." + k)), k);
        }
        net.loadInto(run.net.module); // strict
      }
      assertEquals(1, ckpt.optimizerStates().size());
      assertEquals(1, ckpt.lrSchedulers().size());
      run.optimizer.loadStateDict(ckpt.optimizerStates().get(0));
      run.scheduler.loadStateDict(ckpt.lrSchedulers().get(0));
      try (OptimizerStateDict back = run.optimizer.stateDict()) {
        assertEquals(0.0, TrainingFixtures.maxAbsDiff(back, ckpt.optimizerStates().get(0)));
        PyAssert.assertPythonEquals(ckpt.optimizerStates().get(0).paramGroups(),
            back.paramGroups(), "optimizer_states[0].param_groups");
      }
      PyAssert.assertPythonEquals(ckpt.lrSchedulers().get(0), run.scheduler.stateDict(),
          "lr_schedulers[0]");
    }
  }

  @Test
  void resumesLikePythonAndPythonResumesWhatJavaWrote() throws Exception {
    int n = index.get("n").asInt();
    int m = index.get("m").asInt();
    double tolerance = index.get("tolerance").asDouble();
    Path out = Files.createDirectories(Path.of(System.getProperty("ckpt4j.testdata"),
        "lightning-java"));
    Files.deleteIfExists(out.resolve("java.ckpt"));
    Files.deleteIfExists(out.resolve("roundtrip.ckpt"));
    try (TrainingRun run = new TrainingRun(TrainingRun.spec(dir));
        Batches data = new Batches(dir.resolve("data.pt"))) {
      Map<String, Object> hparams;
      try (LightningCheckpoint ckpt = LightningCheckpoint.load(dir.resolve("lightning.ckpt"), LOAD);
          StateDict net = ckpt.model()) {
        net.loadInto(run.net.module);
        run.optimizer.loadStateDict(ckpt.optimizerStates().get(0));
        run.scheduler.loadStateDict(ckpt.lrSchedulers().get(0));
        hparams = new LinkedHashMap<>(ckpt.hyperParameters());
        ckpt.save(out.resolve("roundtrip.ckpt"));
      }
      run.train(data, n, m);
      try (LoadedCheckpoint fin = CheckpointLoader.load(dir.resolve("final.pt"), LOAD);
          StateDict expected = StateDict.fromTree(((Map<?, ?>) fin.root()).get("state_dict"), fin);
          StateDict expectedNet = expected.stripPrefix("model.");
          StateDict model = StateDict.of(run.net.module);
          OptimizerStateDict expectedOpt = OptimizerStateDict.fromTree(
              ((Map<?, ?>) fin.root()).get("optimizer"), fin);
          OptimizerStateDict opt = run.optimizer.stateDict()) {
        double weights = TrainingFixtures.maxAbsDiff(model, expectedNet);
        double state = TrainingFixtures.maxAbsDiff(opt, expectedOpt);
        System.out.printf("lightning resume in Java: weights %.3g  optimizer state %.3g%n",
            weights, state);
        assertTrue(weights <= tolerance, "weights differ from Python's by " + weights);
        assertTrue(state <= tolerance, "optimizer state differs by " + state);
        assertEquals(lrs(((Map<?, ?>) fin.root()).get("lrs")), run.lrs, "lrs, step by step");
      }
      try (LightningCheckpoint ckpt = LightningCheckpoint.create()) {
        ckpt.epoch(n + m).globalStep(n + m).model(StateDict.of(run.net.module), "model")
            .optimizerStates(List.of(run.optimizer.stateDict()))
            .lrSchedulers(List.of(run.scheduler.stateDict())).hyperParameters(hparams);
        ckpt.save(out.resolve("java.ckpt"));
      }
    }
    JsonNode report = pythonCheck(out);
    System.out.println("python check of the Java .ckpt: " + report);
    for (String part : List.of("java", "roundtrip")) {
      assertTrue(report.has(part), part + ": not checked by Python");
      assertTrue(report.get(part).get("ok").asBoolean(), part + ": " + report.get(part));
    }
  }

  @Test
  void aWrongAttributeNamesTheOnesThere() throws Exception {
    try (LightningCheckpoint ckpt = LightningCheckpoint.load(dir.resolve("lightning.ckpt"), LOAD)) {
      String message = Refusals.assertRefused(Kind.STATE_DICT_MISMATCH, () -> ckpt.model("net"))
          .getMessage();
      assertTrue(message.contains("[model]"), message);
      try (StateDict net = ckpt.model("model")) { // the hint applied
        assertEquals(ckpt.stateDict().size(), net.size());
      }
    }
  }

  @Test
  void aPlainTrainingCheckpointIsSentToCheckpoint() throws Exception {
    Path plain = TrainingFixtures.root().resolve("sgd_momentum_steplr").resolve("ckpt.pt");
    Refusals.assertRefused(Kind.WRONG_LOADER,
        () -> LightningCheckpoint.load(plain, TrainingFixtures.LOAD));
    try (Checkpoint ckpt = Checkpoint.load(plain, TrainingFixtures.LOAD)) { // the hint applied
      assertTrue(ckpt.model().size() > 0);
    }
  }

  @Test
  void namespaceHyperParametersAreReadAsTheirAttributes() throws Exception {
    Path file = dir.resolve("namespace_hparams.ckpt");
    Refusals.assertRefused(Kind.REFUSED_GLOBAL, () -> LightningCheckpoint.load(file, LOAD));
    try (LightningCheckpoint ckpt = LightningCheckpoint.load(file,
        LOAD.allowGlobals("argparse.Namespace"))) { // the hint applied
      PyAssert.assertPythonEquals(hparams(), ckpt.hyperParameters(), "hyper_parameters");
    }
  }

  private static Map<String, Object> hparams() throws Exception {
    JsonNode json = TrainingRun.JSON.readTree(dir.resolve("hparams.json").toFile());
    Map<String, Object> out = new LinkedHashMap<>();
    json.fields().forEachRemaining(e -> out.put(e.getKey(), TrainingRun.python(e.getValue())));
    return out;
  }

  private static List<List<Double>> lrs(Object value) {
    List<List<Double>> out = new ArrayList<>();
    for (Object row : (List<?>) value) {
      List<Double> r = new ArrayList<>();
      for (Object v : (List<?>) row) r.add(((Number) v).doubleValue());
      out.add(r);
    }
    return out;
  }

  /** make_lightning.py check over {@code javaDir}: its JSON report. */
  private static JsonNode pythonCheck(Path javaDir) throws Exception {
    return PythonCheck.run("make_lightning.py", javaDir, dir.toString(), javaDir.toString());
  }
}
