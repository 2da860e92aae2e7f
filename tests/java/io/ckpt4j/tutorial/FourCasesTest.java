package io.ckpt4j.tutorial;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.ckpt4j.CheckpointException;
import io.ckpt4j.CheckpointException.Kind;
import io.ckpt4j.Refusals;
import io.ckpt4j.TestData;
import io.ckpt4j.load.CheckpointLoader;
import io.ckpt4j.load.LoadOptions;
import io.ckpt4j.load.LoadedCheckpoint;
import io.ckpt4j.models.ResNet;
import io.ckpt4j.parallel.DataParallel;
import io.ckpt4j.parallel.DataParallelOptions;
import io.ckpt4j.statedict.LoadStateDictOptions;
import io.ckpt4j.statedict.StateDict;
import io.ckpt4j.value.TensorRef;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The save/load tutorial's four cases — saved on one device or many, loaded on one or many —
 * with weights and with whole models, and every remedy for DataParallel's {@code module.} keys.
 * Python (tests/python/make_four_cases.py) saved a resnet18-shaped model every way; each case
 * must give Python's logits. "Many devices" are the visible GPUs where there are two or more, and
 * two CPU replicas elsewhere (a real test of scatter, replicate and gather).
 */
class FourCasesTest {
  private static Path dir;
  private static JsonNode manifest;
  private static LoadedCheckpoint expected;
  private static Tensor input;
  private static Tensor logits;
  private static double tolerance;

  @BeforeAll
  static void readExpectations() throws IOException {
    dir = TestData.dir("four-cases");
    manifest = new ObjectMapper().readTree(dir.resolve("manifest.json").toFile());
    tolerance = manifest.get("tolerance").asDouble();
    expected = CheckpointLoader.load(dir.resolve("expected.safetensors"), LoadOptions.defaults());
    Map<?, ?> root = (Map<?, ?>) expected.root();
    input = expected.tensor((TensorRef) root.get("input"));
    logits = expected.tensor((TensorRef) root.get("logits"));
  }

  @AfterAll
  static void release() {
    expected.close();
  }

  /** One device: the first GPU where there is one, else the CPU. */
  static String oneDevice() {
    return torch.cuda_is_available() ? "cuda:0" : "cpu";
  }

  /** Many devices: two GPUs where there are, else two CPU replicas. */
  static List<String> manyDevices() {
    if (torch.cuda_is_available() && torch.cuda_device_count() >= 2) {
      return List.of("cuda:0", "cuda:1");
    }
    return List.of("cpu", "cpu");
  }

  private static ResNet freshModel(String device) throws CheckpointException {
    ResNet model = ResNet.create(manifest.get("arch").asText(),
        manifest.get("num_classes").asLong(), manifest.get("width").asLong());
    return model.to(device).eval();
  }

  private static StateDict weights(String file) throws CheckpointException {
    try (LoadedCheckpoint ckpt = CheckpointLoader.load(dir.resolve(file),
        LoadOptions.defaults().mapLocation(oneDevice()))) {
      return StateDict.from(ckpt);
    }
  }

  private static StateDict wholeModel(String file) throws CheckpointException {
    try (LoadedCheckpoint ckpt = CheckpointLoader.load(dir.resolve(file),
        LoadOptions.defaults().mapLocation(oneDevice()).inertObjects(true))) {
      return StateDict.fromWholeModule(ckpt);
    }
  }

  private static DataParallel<ResNet> wrap(ResNet model, List<String> devices)
      throws CheckpointException {
    return DataParallel.of(model, () -> {
      try {
        return freshModel(devices.get(0));
      } catch (CheckpointException e) {
        throw new IllegalStateException(e);
      }
    }, DataParallelOptions.defaults().deviceIds(devices));
  }

  private static void assertPythonLogits(Tensor got, String what) {
    try (Tensor cpu = got.cpu(); Tensor diff = cpu.sub(logits).abs().max()) {
      double d = diff.item_double();
      assertTrue(d <= tolerance, what + ": max abs diff " + d + " > " + tolerance);
    }
  }

  private static void assertSingleForward(ResNet model, String what) {
    try (Tensor x = input.to(new org.bytedeco.pytorch.Device(oneDevice()), input.scalar_type());
        Tensor out = model.forward(x)) {
      assertPythonLogits(out, what);
    }
  }

  private static void assertParallelForward(DataParallel<ResNet> dp, String what)
      throws CheckpointException {
    try (Tensor x = input.to(new org.bytedeco.pytorch.Device(dp.deviceIds().get(0)),
        input.scalar_type()); Tensor out = dp.forward(x)) {
      assertPythonLogits(out, what);
    }
  }

  private static List<String> keys(StateDict sd) {
    return new ArrayList<>(sd.keys());
  }

  private static List<String> manifestKeys(String field) {
    List<String> out = new ArrayList<>();
    manifest.get(field).forEach(k -> out.add(k.asText()));
    return out;
  }

  // --- saved on one device ---------------------------------------------------------------

  /**
   * The tutorial's typo, torch.save(model.state_dict, PATH): refused by default with what the
   * file is and how to read it; the hint applied gives Python's net.state_dict() bit for bit
   * (weights_single.pt is the same model's state_dict, saved by Python) and runs as it does.
   */
  @Test
  void theTutorialsBoundMethodIsReadAsItsRefusalSays() throws CheckpointException {
    Path file = dir.resolve("bound_method.pt");
    CheckpointException e = Refusals.assertRefused(Kind.REFUSED_GLOBAL,
        () -> CheckpointLoader.load(file, LoadOptions.defaults()).close());
    assertTrue(e.getMessage().contains("bound method")
        && e.getMessage().contains("torch.save(model.state_dict)")
        && e.getMessage().contains("inertObjects(true) and StateDict.fromWholeModule"),
        e.getMessage());
    try (StateDict typo = wholeModel("bound_method.pt");
        StateDict python = weights("weights_single.pt");
        ResNet model = freshModel(oneDevice())) {
      assertEquals(keys(python), keys(typo));
      for (String key : python.keys()) {
        assertTrue(torch.equal(python.get(key), typo.get(key)), key);
      }
      typo.loadInto(model.module());
      assertSingleForward(model, "bound method -> single");
    }
  }

  /**
   * A whole pickled model (torch.save(model)) read by default: refused in one line that says
   * what the file is and the option that reads it; both halves of the hint applied.
   */
  @Test
  void aWholeModelIsRefusedWithTheOptionThatReadsIt() throws CheckpointException {
    Path file = dir.resolve("whole_single.pt");
    CheckpointException e = Refusals.assertRefused(Kind.REFUSED_GLOBAL,
        () -> CheckpointLoader.load(file, LoadOptions.defaults()).close());
    assertTrue(e.getMessage().contains("is a whole pickled nn.Module")
        && e.getMessage().contains("inertObjects(true) and StateDict.fromWholeModule")
        && e.getMessage().contains("--inert-objects"), e.getMessage());
    try (StateDict sd = wholeModel("whole_single.pt")) { // the library half
      assertEquals(manifestKeys("single_keys"), keys(sd));
    }
    assertEquals(0, io.ckpt4j.cli.Main.run("inspect", "--inert-objects", file.toString()));
  }

  @Test
  void singleToSingle() throws CheckpointException {
    for (StateDict sd : List.of(weights("weights_single.pt"), wholeModel("whole_single.pt"))) {
      try (sd; ResNet model = freshModel(oneDevice())) {
        assertEquals(manifestKeys("single_keys"), keys(sd));
        sd.loadInto(model.module());
        assertSingleForward(model, "single -> single");
      }
    }
  }

  @Test
  void singleToMulti() throws CheckpointException {
    for (StateDict sd : List.of(weights("weights_single.pt"), wholeModel("whole_single.pt"))) {
      try (sd; ResNet model = freshModel(manyDevices().get(0))) {
        sd.loadInto(model.module());
        try (DataParallel<ResNet> dp = wrap(model, manyDevices());
            StateDict wrapped = StateDict.of(dp)) {
          assertEquals(manifestKeys("multi_keys"), keys(wrapped));
          assertParallelForward(dp, "single -> multi");
        }
      }
    }
  }

  // --- saved from nn.DataParallel: the three remedies ----------------------------------------

  @Test
  void multiToSingleSavedAsModuleStateDict() throws CheckpointException {
    // Remedy 1: the saver wrote model.module.state_dict().
    try (StateDict sd = weights("weights_multi_module.pt"); ResNet model = freshModel(oneDevice())) {
      sd.loadInto(model.module());
      assertSingleForward(model, "multi -> single, module.state_dict()");
    }
  }

  @Test
  void multiToSingleWrappedAtLoad() throws CheckpointException {
    // Remedy 2: wrap the model in DataParallel, load, then use .module.
    for (StateDict sd : List.of(weights("weights_multi.pt"), wholeModel("whole_multi.pt"))) {
      try (sd; ResNet model = freshModel(oneDevice());
          DataParallel<ResNet> dp = wrap(model, List.of(oneDevice()))) {
        sd.loadInto(dp);
        assertSingleForward(dp.module(), "multi -> single, wrapped at load");
      }
    }
  }

  @Test
  void multiToSingleStrippingThePrefix() throws CheckpointException {
    // Remedy 3: strip "module." (the tutorial's loop, its replace, and the opt-in fix).
    for (StateDict sd : List.of(weights("weights_multi.pt"), wholeModel("whole_multi.pt"))) {
      try (sd; StateDict stripped = sd.stripPrefix("module.");
          StateDict replaced = sd.rename(k -> k.replace("module.", ""));
          ResNet a = freshModel(oneDevice()); ResNet b = freshModel(oneDevice());
          ResNet c = freshModel(oneDevice())) {
        assertEquals(manifestKeys("single_keys"), keys(stripped));
        stripped.loadInto(a.module());
        replaced.loadInto(b.module());
        sd.loadInto(c.module(), LoadStateDictOptions.defaults().fixModulePrefix(true));
        assertSingleForward(a, "multi -> single, prefix stripped");
        assertSingleForward(b, "multi -> single, prefix replaced");
        assertSingleForward(c, "multi -> single, fixModulePrefix");
      }
    }
  }

  @Test
  void multiWithoutARemedyIsOneClearError() throws CheckpointException {
    try (StateDict sd = weights("weights_multi.pt"); ResNet model = freshModel(oneDevice())) {
      CheckpointException e = Refusals.assertRefused(Kind.STATE_DICT_MISMATCH,
          () -> sd.loadInto(model.module()));
      assertTrue(e.getMessage().contains("module."), e.getMessage());
    }
  }

  // --- Java saves every way; Python loads them (tests/python/make_four_cases.py check, run in
  // the verify phase over four-cases-java/) -------------------------------------------------

  @Test
  void javaSavesEachWayAndRunsTheCli() throws Exception {
    Path out = java.nio.file.Files.createDirectories(TestData.root().resolve("four-cases-java"));
    try (StateDict sd = weights("weights_single.pt"); ResNet model = freshModel(oneDevice())) {
      sd.loadInto(model.module());
      try (DataParallel<ResNet> dp = wrap(model, manyDevices())) {
        // model.state_dict(), DataParallel(model).state_dict() and model.module.state_dict()
        save(out.resolve("java_single.pt"), StateDict.of(model.module()));
        save(out.resolve("java_multi.pt"), StateDict.of(dp));
        save(out.resolve("java_multi_module.pt"), StateDict.of(dp.module().module()));
      }
    }
    String in = dir.resolve("input.pt").toString();
    assertEquals(0, io.ckpt4j.cli.Main.run("run", dir.resolve("traced.pt").toString(),
        "--input", in, "--output", out.resolve("run_traced.pt").toString()));
    assertEquals(0, io.ckpt4j.cli.Main.run("run", "--arch", "resnet18", "--weights",
        dir.resolve("whole_multi.pt").toString(), "--input", in, "--output",
        out.resolve("run_resnet_data_parallel.pt").toString(), "--data-parallel", "--devices",
        String.join(",", manyDevices())));
    // convert --state-dict: a whole pickled DataParallel model to its state dict (module. keys,
    // loaded into DataParallel by the check), and with the prefix stripped (a plain model's).
    String whole = dir.resolve("whole_multi.pt").toString();
    assertEquals(0, io.ckpt4j.cli.Main.run("convert", "--state-dict", whole,
        out.resolve("convert_whole_multi.pt").toString()));
    assertEquals(0, io.ckpt4j.cli.Main.run("convert", "--state-dict", "--strip-prefix", "module.",
        whole, out.resolve("convert_whole_multi_stripped.pt").toString()));
    // The tutorial's typo (a pickled bound method): the CLI half of its refusal's hint.
    assertEquals(0, io.ckpt4j.cli.Main.run("convert", "--state-dict",
        dir.resolve("bound_method.pt").toString(),
        out.resolve("convert_bound_method.pt").toString()));
    // What Java wrote reads back in Java too, with Python's logits.
    try (LoadedCheckpoint ran = CheckpointLoader.load(out.resolve("run_traced.pt"),
        LoadOptions.defaults())) {
      assertPythonLogits(ran.tensor((TensorRef) ran.root()), "ckpt4j run (TorchScript)");
    }
  }

  private static void save(Path file, StateDict sd) throws CheckpointException {
    try (sd) {
      io.ckpt4j.save.TorchSaver.save(file, sd.toPython(),
          io.ckpt4j.save.SaveOptions.defaults().mapLocation("cpu"));
    }
  }

  @Test
  void multiToMulti() throws CheckpointException {
    for (StateDict sd : List.of(weights("weights_multi.pt"), wholeModel("whole_multi.pt"))) {
      try (sd; ResNet model = freshModel(manyDevices().get(0));
          DataParallel<ResNet> dp = wrap(model, manyDevices())) {
        sd.loadInto(dp);
        assertParallelForward(dp, "multi -> multi");
      }
    }
  }
}
