package io.ckpt4j.checkpoint;

import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.ckpt4j.checkpoint.Checkpoint.ArgsFormat;
import io.ckpt4j.checkpoint.TrainingRun.Batches;
import io.ckpt4j.save.SaveOptions;
import io.ckpt4j.statedict.StateDict;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.bytedeco.pytorch.global.torch;
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
 * <p>Each test depends on no other, nor on their order: what it asserts on comes from
 * {@link #trained()} or {@link #resaved()}, which, on first use, write Java's files for every case
 * into a directory they empty first and run Python's check over it once (starting Python with
 * torch is most of a check's time). A case Java could not write fails with Java's error.
 *
 * <p>Writes into {@code ckpt4j.testdata/training-java}; needs {@code ckpt4j.python} (the venv
 * python) and {@code ckpt4j.pythonTests} (tests/python).
 */
class ResumeInPythonTest {
  static final String OUT = "training-java";
  /** {@link Verdicts}, or what failed making them, by kind ("trained", "resaved"). */
  private static final Map<String, Object> MADE = new HashMap<>();

  static Stream<String> cases() throws Exception {
    return TrainingFixtures.cases();
  }

  @ParameterizedTest
  @MethodSource("cases")
  void pythonResumesWhatJavaSaved(String name) throws Exception {
    JsonNode r = trained().of(name);
    System.out.printf("python resume of %-34s weights %s  optimizer %s  lrs equal %s"
            + "  (Java's N steps vs Python's: %s)  notes %s%n", name, r.get("max_abs_diff"),
        r.get("optimizer_max_abs_diff"), r.get("lrs_equal"), r.get("ckpt_vs_python_model"),
        r.get("notes"));
    assertTrue(r.has("max_abs_diff"), name + ": Python resumed java_ckpt.pt");
    assertTrue(r.get("ok").asBoolean(), name + ": " + r.get("problems"));
  }

  @ParameterizedTest
  @MethodSource("cases")
  void javaResavesPythonCheckpointsUnchanged(String name) throws Exception {
    JsonNode r = resaved().of(name);
    assertTrue(r.path("roundtrip_checked").asBoolean(), name + ": roundtrip.pt checked");
    assertTrue(r.get("ok").asBoolean(), name + ": " + r.get("problems"));
  }

  // ---- what Java writes, and Python's report on it

  /** Java's N steps saved (java_ckpt.pt) and its M more (java_final.pt), checked by Python. */
  private static Verdicts trained() {
    return verdicts("trained", ResumeInPythonTest::trainAndSave);
  }

  /** Python's ckpt.pt re-saved by Java (roundtrip.pt), checked by Python. */
  private static Verdicts resaved() {
    return verdicts("resaved", ResumeInPythonTest::resave);
  }

  /** {@link Verdicts#of}, made once per kind (its failure too: it is not retried per case). */
  private static synchronized Verdicts verdicts(String kind, CaseWriter writer) {
    Object made = MADE.get(kind);
    if (made == null) {
      try {
        made = Verdicts.of(kind, writer);
      } catch (Exception | AssertionError e) {
        made = e;
      }
      MADE.put(kind, made);
    }
    if (made instanceof Verdicts v) return v;
    throw new AssertionError("writing or checking the " + kind + " files failed", (Throwable) made);
  }

  /** Writes one case's files into {@code target}. */
  @FunctionalInterface
  private interface CaseWriter {
    void write(String name, Path target) throws Exception;
  }

  /** What Java could not write, by case, and the report of Python's check of what it wrote. */
  private record Verdicts(Map<String, Throwable> javaFailures, JsonNode report) {
    /** Every case written by {@code writer} into an emptied {@code OUT/kind}, then checked. */
    static Verdicts of(String kind, CaseWriter writer) throws Exception {
      Path dir = emptied(Path.of(System.getProperty("ckpt4j.testdata"), OUT, kind));
      Map<String, Throwable> failures = new LinkedHashMap<>();
      for (String name : TrainingFixtures.cases().toList()) {
        try {
          writer.write(name, Files.createDirectories(dir.resolve(name)));
        } catch (Exception | AssertionError e) {
          failures.put(name, e);
        }
      }
      return new Verdicts(failures, pythonCheck(dir));
    }

    /** Python's finding on case {@code name}; Java's error when Java could not write it. */
    JsonNode of(String name) {
      Throwable javaFailure = javaFailures.get(name);
      if (javaFailure != null) throw new AssertionError(name + ": Java's side failed", javaFailure);
      JsonNode r = report.get("cases").get(name);
      assertNotNull(r, name + ": not checked by Python");
      return r;
    }
  }

  private static void trainAndSave(String name, Path target) throws Exception {
    torch.set_num_threads(1);
    Path dir = TrainingFixtures.root().resolve(name);
    JsonNode spec = TrainingRun.spec(dir);
    boolean namespace = "namespace".equals(spec.get("args").asText());
    Map<String, Object> args = TrainingFixtures.args(dir);
    try (TrainingRun run = new TrainingRun(spec);
        Batches data = new Batches(TrainingFixtures.root().resolve("data.pt"))) {
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

  private static void resave(String name, Path target) throws Exception {
    Path dir = TrainingFixtures.root().resolve(name);
    try (Checkpoint ckpt = Checkpoint.load(dir.resolve("ckpt.pt"), TrainingFixtures.LOAD)) {
      ckpt.save(target.resolve("roundtrip.pt"), SaveOptions.defaults(),
          ckpt.argsWasNamespace() ? ArgsFormat.NAMESPACE : ArgsFormat.DICT);
    }
  }

  /** make_training.py check over {@code javaDir}: its JSON report (also in check.json). */
  private static JsonNode pythonCheck(Path javaDir) throws Exception {
    return PythonCheck.run("make_training.py", javaDir, TrainingFixtures.root().toString(),
        javaDir.toString());
  }

  /** {@code dir}, empty: what an earlier run left there must not pass for this run's output. */
  private static Path emptied(Path dir) throws IOException {
    if (Files.exists(dir)) {
      try (Stream<Path> all = Files.walk(dir)) {
        for (Path p : all.sorted(Comparator.reverseOrder()).toList()) Files.delete(p);
      }
    }
    return Files.createDirectories(dir);
  }

  private static List<Object> lists(List<List<Double>> rows) {
    List<Object> out = new ArrayList<>();
    for (List<Double> row : rows) out.add(new ArrayList<Object>(row));
    return out;
  }
}
