package io.ckpt4j.checkpoint;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import io.ckpt4j.checkpoint.Checkpoint.ArgsFormat;
import io.ckpt4j.checkpoint.TrainingRun.Batches;
import io.ckpt4j.save.SaveOptions;
import io.ckpt4j.statedict.StateDict;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The reverse direction: Java trains each case N steps from Python's initial weights (init.pt),
 * saves the training checkpoint with {@link Checkpoint} (java_ckpt.pt), goes on M steps and saves
 * where it landed (java_final.pt); it also re-saves Python's own ckpt.pt unchanged
 * (roundtrip.pt). Then tests/python/make_training.py, in its check mode, resumes java_ckpt.pt in
 * Python (torch.load with weights_only=True; the Namespace case with argparse.Namespace added to
 * the safe globals) and must land on Java's continuation; it also compares Java's N steps with
 * its own and roundtrip.pt with ckpt.pt entry by entry.
 *
 * <p>Writes into {@code ckpt4j.testdata/training-java}; needs {@code ckpt4j.python} (the venv
 * python) and {@code ckpt4j.pythonTests} (tests/python).
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ResumeInPythonTest {
  static final String OUT = "training-java";
  private static final long PYTHON_TIMEOUT_SECONDS = 300;
  private static Batches data;

  @BeforeAll
  static void setUp() throws Exception {
    torch.set_num_threads(1);
    data = new Batches(TrainingFixtures.root().resolve("data.pt"));
  }

  @AfterAll
  static void tearDown() {
    if (data != null) data.close();
  }

  static Path out() throws IOException {
    Path dir = Path.of(System.getProperty("ckpt4j.testdata")).resolve(OUT);
    Files.createDirectories(dir);
    return dir;
  }

  static java.util.stream.Stream<String> cases() throws Exception {
    return TrainingFixtures.cases();
  }

  @Order(1)
  @ParameterizedTest
  @MethodSource("cases")
  void javaTrainsAndSaves(String name) throws Exception {
    Path dir = TrainingFixtures.root().resolve(name);
    JsonNode spec = TrainingRun.spec(dir);
    Path target = out().resolve(name);
    Files.createDirectories(target);
    boolean namespace = "namespace".equals(spec.get("args").asText());
    Map<String, Object> args = args(dir);
    try (TrainingRun run = new TrainingRun(spec)) {
      TrainingFixtures.loadInitialWeights(run);
      run.train(data, 0, run.nSteps());
      try (Checkpoint ckpt = Checkpoint.create()) {
        StateDict model = StateDict.of(run.net.module);
        if (spec.get("data_parallel").asBoolean()) { // saved as nn.DataParallel saves it
          StateDict prefixed = model.addPrefix();
          model.close();
          model = prefixed;
        }
        ckpt.model(model).optimizer(run.optimizer.stateDict())
            .lrScheduler(run.scheduler.stateDict()).epoch(run.nSteps()).args(args);
        ckpt.save(target.resolve("java_ckpt.pt"), SaveOptions.defaults(),
            namespace ? ArgsFormat.NAMESPACE : ArgsFormat.DICT);
      }
      run.losses.clear();
      run.lrs.clear();
      run.train(data, run.nSteps(), run.mSteps());
      try (Checkpoint fin = Checkpoint.create()) {
        fin.model(StateDict.of(run.net.module)).optimizer(run.optimizer.stateDict())
            .put("losses", new ArrayList<Object>(run.losses)).put("lrs", lists(run.lrs));
        fin.save(target.resolve("java_final.pt"));
      }
    }
  }

  @Order(2)
  @ParameterizedTest
  @MethodSource("cases")
  void javaResavesPythonCheckpointsUnchanged(String name) throws Exception {
    Path dir = TrainingFixtures.root().resolve(name);
    Path target = out().resolve(name);
    Files.createDirectories(target);
    try (Checkpoint ckpt = Checkpoint.load(dir.resolve("ckpt.pt"), TrainingFixtures.LOAD)) {
      ckpt.save(target.resolve("roundtrip.pt"), SaveOptions.defaults(),
          ckpt.argsWasNamespace() ? ArgsFormat.NAMESPACE : ArgsFormat.DICT);
    }
  }

  @Order(3)
  @Test
  void pythonResumesWhatJavaSaved() throws Exception {
    String python = System.getProperty("ckpt4j.python");
    if (python == null) fail("set -Dckpt4j.python to the build's venv python (torch 2.13)");
    Path script = Path.of(System.getProperty("ckpt4j.pythonTests", "tests/python"))
        .resolve("make_training.py");
    Path log = out().resolve("check.json");
    Process p = new ProcessBuilder(python, script.toString(), "check",
        TrainingFixtures.root().toString(), out().toString())
        .redirectErrorStream(false).redirectOutput(log.toFile())
        .redirectError(ProcessBuilder.Redirect.INHERIT).start();
    assertTrue(p.waitFor(PYTHON_TIMEOUT_SECONDS, TimeUnit.SECONDS), "the Python check timed out");
    String report = Files.readString(log, StandardCharsets.UTF_8);
    JsonNode cases = TrainingRun.JSON.readTree(report).get("cases");
    List<String> failures = new ArrayList<>();
    List<String> expected = TrainingFixtures.cases().toList();
    for (String name : expected) {
      JsonNode r = cases.get(name);
      if (r == null) {
        failures.add(name + ": not checked (nothing written)");
      } else {
        System.out.printf("python resume of %-34s weights %s  optimizer %s  lrs equal %s"
                + "  (Java's N steps vs Python's: %s)  notes %s%n", name, r.get("max_abs_diff"),
            r.get("optimizer_max_abs_diff"), r.get("lrs_equal"), r.get("ckpt_vs_python_model"),
            r.get("notes"));
        if (!r.get("ok").asBoolean()) failures.add(name + ": " + r.get("problems"));
        assertTrue(r.path("roundtrip_checked").asBoolean(), name + ": roundtrip.pt checked");
      }
    }
    assertEquals(List.of(), failures, "Python's check of the Java-written checkpoints");
    assertEquals(0, p.exitValue(), "make_training.py check exit status");
  }

  private static Map<String, Object> args(Path dir) throws IOException {
    JsonNode json = TrainingRun.JSON.readTree(dir.resolve("args.json").toFile());
    Map<String, Object> out = new LinkedHashMap<>();
    json.fields().forEachRemaining(e -> out.put(e.getKey(), value(e.getValue())));
    return out;
  }

  private static Object value(JsonNode v) {
    if (v.isArray()) {
      List<Object> out = new ArrayList<>();
      v.forEach(x -> out.add(value(x)));
      return out;
    }
    return TrainingRun.python(v);
  }

  private static List<Object> lists(List<List<Double>> rows) {
    List<Object> out = new ArrayList<>();
    for (List<Double> row : rows) out.add(new ArrayList<Object>(row));
    return out;
  }
}
