package io.ckpt4j.libtorch;

import static io.ckpt4j.libtorch.ScriptFixtures.assertSame;
import static io.ckpt4j.libtorch.ScriptFixtures.assertStateDict;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.ckpt4j.CheckpointException;
import io.ckpt4j.CheckpointException.Kind;
import io.ckpt4j.Refusals;
import io.ckpt4j.container.zip.TorchZip;
import io.ckpt4j.container.zip.ZipArchive;
import io.ckpt4j.load.CheckpointLoader;
import io.ckpt4j.load.LoadOptions;
import io.ckpt4j.load.LoadedCheckpoint;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.bytedeco.pytorch.Module;
import org.bytedeco.pytorch.StringTensorDict;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * TorchScript archives written by Python (make_torchscript.py: scripted and traced models, and the
 * real-world tch-rs archives) run in Java with Python's outputs and state dicts; what Java saves
 * back runs in Python with the same outputs.
 */
class TorchScriptTest {
  private static final String CPU = "cpu";

  static Stream<Arguments> cases() {
    return ScriptFixtures.list("cases").stream().map(c -> Arguments.of(c.get("name").asText(), c));
  }

  static Stream<Arguments> oldFormat() {
    return ScriptFixtures.list("old_format").stream()
        .map(c -> Arguments.of(c.get("name").asText(), c));
  }

  static Stream<Arguments> notTorchScript() {
    return ScriptFixtures.list("not_torchscript").stream()
        .map(c -> Arguments.of(c.get("file").asText(), c));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("cases")
  void runsWithPythonsOutputsAndStateDict(String name, JsonNode c) throws Exception {
    try (ScriptModel model = TorchScript.load(ScriptFixtures.file(c), CPU);
        LoadedCheckpoint io = ScriptFixtures.tensors(c.get("io").asText());
        LoadedCheckpoint state = ScriptFixtures.tensors(c.get("state_dict").get("file").asText())) {
      assertEquals(CPU, model.device());
      assertEquals(ScriptFixtures.strings(c.get("methods")),
          model.methodNames().stream().sorted().toList(), "methods");
      assertEquals(c.get("training").asBoolean(), model.isTraining(), "training");
      List<Object> inputs = ScriptFixtures.decodeAll(c.get("inputs"), io);
      Object output = model.runMethod(c.get("method").asText(), inputs);
      assertSame(ScriptFixtures.decode(c.get("output"), io), output, c.get("atol").asDouble(),
          name + " output");
      assertStateDict(ScriptFixtures.strings(c.get("state_dict").get("names")), state,
          model.stateDict(), name);
    }
  }

  @Test
  void trainModeUpdatesBatchNormAsInPython() throws Exception {
    JsonNode c = ScriptFixtures.caseNamed("convnet_scripted");
    JsonNode step = c.get("train_step");
    double atol = c.get("atol").asDouble();
    try (ScriptModel model = TorchScript.load(ScriptFixtures.file(c), CPU);
        LoadedCheckpoint io = ScriptFixtures.tensors(c.get("io").asText());
        LoadedCheckpoint trainIo = ScriptFixtures.tensors(step.get("io").asText());
        LoadedCheckpoint after = ScriptFixtures.tensors(step.get("state_dict").get("file").asText())) {
      assertFalse(model.isTraining());
      assertTrue(model.train().isTraining());
      Object output = model.forward(ScriptFixtures.decodeAll(c.get("inputs"), io));
      assertSame(ScriptFixtures.decode(step.get("output"), trainIo), output, atol, "train output");
      Map<String, Tensor> actual = model.stateDict();
      List<String> names = ScriptFixtures.strings(step.get("state_dict").get("names"));
      assertEquals(names, new ArrayList<>(actual.keySet()));
      Map<?, ?> expected = (Map<?, ?>) after.root();
      for (String key : names) {
        // running_mean / running_var come from the conv output: kernel-dependent, within atol
        ScriptFixtures.assertTensor(after.tensor((io.ckpt4j.value.TensorRef) expected.get(key)),
            actual.get(key), atol, "after a training step: " + key);
      }
      assertFalse(model.eval().isTraining());
    }
  }

  @Test
  void savedModelsRunInPython(@TempDir Path out) throws Exception {
    List<Map<String, String>> saved = new ArrayList<>();
    for (JsonNode c : ScriptFixtures.list("cases")) {
      String name = c.get("name").asText();
      Path file = out.resolve(name.replace(".pt", "") + ".saved.pt");
      try (ScriptModel model = TorchScript.load(ScriptFixtures.file(c), CPU)) {
        model.to(CPU).save(file);
        try (ScriptModel again = TorchScript.load(file, CPU);
            LoadedCheckpoint state = ScriptFixtures.tensors(c.get("state_dict").get("file")
                .asText())) {
          assertStateDict(ScriptFixtures.strings(c.get("state_dict").get("names")), state,
              again.stateDict(), name + " saved by Java and loaded back");
        }
      }
      saved.add(Map.of("case", name, "file", file.getFileName().toString()));
    }
    ScriptFixtures.writeJson(out.resolve(ScriptFixtures.JAVA_MANIFEST), Map.of("saved", saved));
    String report = ScriptFixtures.checkWithPython(out);
    assertTrue(report.contains(saved.size() + " ok, 0 failed"), report);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("oldFormat")
  void oldModelJsonArchivesSayWhatTheyAre(String name, JsonNode c) {
    CheckpointException e = Refusals.assertRefused(Kind.UNSUPPORTED_FORMAT,
        () -> TorchScript.load(ScriptFixtures.file(c), CPU));
    assertTrue(e.getMessage().contains("model.json format of torch 1.0 to 1.2 (2018-2019)"),
        e.getMessage());
    assertTrue(e.getMessage().contains("LibTorch 2.13 cannot read"), e.getMessage());
    // torch 2.13 in Python fails on the same file (what the generator recorded)
    assertTrue(c.get("jit_load_error").asText().contains("Legacy model format"));
    if (c.get("kind").asText().equals("libtorch")) {
      assertTrue(e.getMessage().contains("LibTorch C++ module archive"), e.getMessage());
      try (Module into = new ArchiveNet()) {
        CheckpointException archive = Refusals.assertRefused(Kind.UNSUPPORTED_FORMAT,
            () -> LibTorchArchives.load(into, ScriptFixtures.file(c), CPU));
        assertTrue(archive.getMessage().contains("model.json format"), archive.getMessage());
      }
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("notTorchScript")
  void torchSaveCheckpointsAreSentToTheReader(String name, JsonNode c) throws Exception {
    CheckpointException e = Refusals.assertRefused(Kind.WRONG_LOADER,
        () -> TorchScript.load(ScriptFixtures.file(c), CPU));
    assertTrue(e.getMessage().contains("is a torch.save checkpoint (" + c.get("format").asText()
        + " format)"), e.getMessage());
    assertTrue(e.getMessage().contains("read it with CheckpointLoader.load, which never runs"
        + " code, and load its state_dict into a model built in Java"), e.getMessage());
    // The hint, applied: the reader reads it (a state_dict ScriptModel.loadStateDict could take).
    try (LoadedCheckpoint ckpt = CheckpointLoader.load(ScriptFixtures.file(c),
        LoadOptions.defaults().mapLocation(CPU))) {
      assertFalse(ckpt.tensorRefs().isEmpty(), name);
    }
  }

  @Test
  void safetensorsIsSentToTheReader() throws Exception {
    JsonNode c = ScriptFixtures.caseNamed("convnet_scripted");
    Path file = ScriptFixtures.dir().resolve(c.get("state_dict").get("file").asText());
    CheckpointException e = Refusals.assertRefused(Kind.WRONG_LOADER,
        () -> TorchScript.load(file, CPU));
    assertTrue(e.getMessage().contains("is a safetensors file"), e.getMessage());
    assertTrue(e.getMessage().endsWith("read it with CheckpointLoader.load and load the tensors"
        + " into a model built in Java"), e.getMessage());
    try (LoadedCheckpoint ckpt = CheckpointLoader.load(file, LoadOptions.defaults())) {
      assertFalse(ckpt.tensorRefs().isEmpty()); // the hint, applied
    }
  }

  @Test
  void missingFileIsNamed() {
    Path file = ScriptFixtures.dir().resolve("no-such-model.pt");
    CheckpointException e = Refusals.assertRefused(Kind.NOT_FOUND,
        () -> TorchScript.load(file, CPU));
    assertTrue(e.getMessage().contains("no such file"), e.getMessage());
  }

  @Test
  void devicesAreChecked() throws Exception {
    Path file = ScriptFixtures.file(ScriptFixtures.caseNamed("convnet_scripted"));
    for (String bad : List.of("mps", "cuda:x", "")) {
      CheckpointException e = Refusals.assertRefused(Kind.DEVICE,
          () -> TorchScript.load(file, bad), bad);
      assertTrue(e.getMessage().contains("cpu, cuda or cuda:N"), e.getMessage());
    }
    if (!torch.cuda_is_available()) {
      CheckpointException e = Refusals.assertRefused(Kind.DEVICE,
          () -> TorchScript.load(file, "cuda:0"));
      assertTrue(e.getMessage().contains("CUDA is not available"), e.getMessage());
      assertTrue(e.getMessage().endsWith(": use device \"cpu\""), e.getMessage());
      try (ScriptModel model = TorchScript.load(file, "cpu")) { // the hint, applied
        e = Refusals.assertRefused(Kind.DEVICE, () -> model.to("cuda"));
        assertTrue(e.getMessage().endsWith(": use device \"cpu\""), e.getMessage());
        model.to("cpu");
        assertEquals(CPU, model.device());
      }
    } else {
      int count = Byte.toUnsignedInt(torch.cuda_device_count());
      CheckpointException e = Refusals.assertRefused(Kind.DEVICE,
          () -> TorchScript.load(file, "cuda:" + count));
      assertTrue(e.getMessage().contains(count + " CUDA device(s)"), e.getMessage());
      try (ScriptModel model = TorchScript.load(file, "cuda:0")) {
        for (Tensor t : model.stateDict().values()) assertTrue(t.is_cuda());
      }
    }
  }

  @Test
  void libTorchErrorsComeBackAsOneLine() throws Exception {
    JsonNode c = ScriptFixtures.caseNamed("convnet_scripted");
    try (ScriptModel model = TorchScript.load(ScriptFixtures.file(c), CPU);
        LoadedCheckpoint io = ScriptFixtures.tensors(c.get("io").asText())) {
      Tensor image = (Tensor) ScriptFixtures.decodeAll(c.get("inputs"), io).get(0);
      // a batch with the channels in the wrong place: the conv inside the model refuses it
      try (Tensor wrong = image.transpose(1, 2).contiguous()) {
        CheckpointException e = Refusals.assertRefused(Kind.NATIVE,
            () -> model.forwardTensor(wrong));
        assertTrue(e.getMessage().startsWith("method forward of TorchScript model"), e.getMessage());
        assertTrue(e.getMessage().contains("RuntimeError: "), e.getMessage());
        UncheckedIOException u = assertThrows(UncheckedIOException.class,
            () -> model.forward(wrong));
        assertInstanceOf(CheckpointException.class, u.getCause());
      }
      CheckpointException type = Refusals.assertRefused(Kind.INVALID_VALUE,
          () -> model.forward(List.of("not a tensor")));
      assertTrue(type.getMessage().contains("argument x of method forward"), type.getMessage());
      assertTrue(type.getMessage().contains("declared Tensor but was given a String"),
          type.getMessage());
      CheckpointException arity = Refusals.assertRefused(Kind.INVALID_VALUE,
          () -> model.forward(List.of(image, image)));
      assertTrue(arity.getMessage().contains("takes 1 argument(s) (x) but was given 2"),
          arity.getMessage());
      CheckpointException notTuple = Refusals.assertRefused(Kind.INVALID_VALUE,
          () -> model.forwardTensors(image));
      assertTrue(notTuple.getMessage().endsWith("not a tuple of tensors: call forward(List) to"
          + " get any value"), notTuple.getMessage());
      assertInstanceOf(Tensor.class, model.forward(List.of(image))); // the hint, applied
    }
  }

  /** What TorchZip says of a TorchScript archive given as a torch.save checkpoint, applied. */
  @Test
  void aTorchScriptArchiveIsLoadedAsTheRefusalSays() throws Exception {
    Path file = ScriptFixtures.file(ScriptFixtures.caseNamed("convnet_scripted"));
    try (ZipArchive zip = ZipArchive.open(file)) {
      TorchZip torch = TorchZip.inspect(zip);
      CheckpointException e = Refusals.assertRefused(Kind.WRONG_LOADER, torch::requireTorchSave);
      assertTrue(e.getMessage().endsWith("not a torch.save checkpoint: load it with"
          + " torch.jit.load or torch::jit::load"), e.getMessage());
    }
    try (ScriptModel model = TorchScript.load(file, CPU)) { // ckpt4j's torch::jit::load
      assertFalse(model.stateDict().isEmpty());
    }
  }

  @Test
  void missingMethodListsTheMethods() throws Exception {
    JsonNode c = ScriptFixtures.caseNamed("tch-rs__HEAD_tests_foo8.pt");
    try (ScriptModel model = TorchScript.load(ScriptFixtures.file(c), CPU)) {
      CheckpointException e = Refusals.assertRefused(Kind.NOT_FOUND,
          () -> model.forwardTensor(torch.ones(1)));
      assertTrue(e.getMessage().contains("has no method forward; its methods are "
          + ScriptFixtures.strings(c.get("methods"))), e.getMessage());
    }
  }

  @Test
  void tupleOutputsAsTensorLists() throws Exception {
    JsonNode c = ScriptFixtures.caseNamed("tuple_scripted");
    try (ScriptModel model = TorchScript.load(ScriptFixtures.file(c), CPU);
        LoadedCheckpoint io = ScriptFixtures.tensors(c.get("io").asText())) {
      List<Object> inputs = ScriptFixtures.decodeAll(c.get("inputs"), io);
      List<Tensor> out = model.forwardTensors((Tensor) inputs.get(0), (Tensor) inputs.get(1));
      List<?> expected = (List<?>) ScriptFixtures.decode(c.get("output"), io);
      assertEquals(expected.size(), out.size());
      for (int i = 0; i < out.size(); i++) {
        ScriptFixtures.assertTensor((Tensor) expected.get(i), out.get(i), c.get("atol").asDouble(),
            "output " + i);
      }
      CheckpointException e = Refusals.assertRefused(Kind.INVALID_VALUE,
          () -> model.forwardTensor((Tensor) inputs.get(0), (Tensor) inputs.get(1)));
      assertTrue(e.getMessage().endsWith("not a tensor: call forward(List) to get any value"),
          e.getMessage());
      // The hint, applied: forward(List) gives the tuple as a list.
      assertEquals(expected.size(), ((List<?>) model.forward(inputs)).size());
    }
  }

  /**
   * An argument of the wrong Java type names the type to pass instead; passing it works. The
   * models take a Tensor, int, str, bool, List[Tensor] (mixed_scripted), Dict and float
   * (dict_scripted).
   */
  @Test
  void everyArgumentHintNamesTheJavaTypeThatWorks() throws Exception {
    try (ScriptModel mixed = TorchScript.load(
            ScriptFixtures.file(ScriptFixtures.caseNamed("mixed_scripted")), CPU);
        ScriptModel dict = TorchScript.load(
            ScriptFixtures.file(ScriptFixtures.caseNamed("dict_scripted")), CPU)) {
      Tensor x = torch.randn(6, 4);
      List<Object> good = List.of(x, 3L, "tag", false, x, List.of(x, x));
      // argument index, the wrong value, the hint
      Object[][] wrong = {
          {0, "x", ": pass an org.bytedeco.pytorch.Tensor"},
          {1, "3", ": pass a Long"},
          {2, 5L, ": pass a String"},
          {3, "no", ": pass a Boolean"},
          {5, x, ": pass a List"},
      };
      for (Object[] w : wrong) {
        List<Object> args = new ArrayList<>(good);
        args.set((Integer) w[0], w[1]);
        CheckpointException e = Refusals.assertRefused(Kind.INVALID_VALUE,
            () -> mixed.forward(args), w[2].toString());
        assertTrue(e.getMessage().endsWith((String) w[2]), e.getMessage());
      }
      mixed.forward(good); // every hint, applied
      Tensor a = torch.randn(3, 4);
      Map<String, Tensor> batch = Map.of("a", a, "b", a);
      CheckpointException e = Refusals.assertRefused(Kind.INVALID_VALUE,
          () -> dict.forward(List.of(List.of(a, a), 0.25)));
      assertTrue(e.getMessage().endsWith(": pass a Map"), e.getMessage());
      e = Refusals.assertRefused(Kind.INVALID_VALUE, () -> dict.forward(List.of(batch, "0.25")));
      assertTrue(e.getMessage().endsWith(": pass a Double"), e.getMessage());
      assertInstanceOf(Map.class, dict.forward(List.of(batch, 0.25)));
    }
  }

  @Test
  void moduleViewHoldsTheModelsOwnTensors() throws Exception {
    JsonNode c = ScriptFixtures.caseNamed("convnet_traced");
    try (ScriptModel model = TorchScript.load(ScriptFixtures.file(c), CPU)) {
      Module view = model.module();
      assertSame(view, model.module());
      // LibTorch reaches the view's submodules' virtual methods through their Java objects:
      // they must survive a collection while the model holds the view
      System.gc();
      view.train(false);
      assertFalse(view.is_training());
      Map<String, Tensor> state = model.stateDict();
      Map<String, Tensor> viewTensors = new HashMap<>();
      try (StringTensorDict params = view.named_parameters(true);
          StringTensorDict buffers = view.named_buffers(true)) {
        for (long i = 0; i < params.size(); i++) {
          viewTensors.put(params.get(i).key().getString(), params.get(i).value());
        }
        for (long i = 0; i < buffers.size(); i++) {
          viewTensors.put(buffers.get(i).key().getString(), buffers.get(i).value());
        }
      }
      assertEquals(state.keySet(), viewTensors.keySet());
      for (String key : state.keySet()) {
        assertEquals(state.get(key).data_ptr().address(), viewTensors.get(key).data_ptr().address(),
            key + " is the model's own storage");
      }
      // an in-place change through the view is a change of the model
      String key = "head.2.bias";
      try (Tensor before = state.get(key).clone()) {
        try (var guard = new org.bytedeco.pytorch.NoGradGuard()) {
          viewTensors.get(key).mul_(new org.bytedeco.pytorch.Scalar(2.0));
        }
        try (Tensor doubled = before.mul(new org.bytedeco.pytorch.Scalar(2.0))) {
          assertTrue(torch.equal(doubled, model.stateDict().get(key)));
        }
      }
    }
  }

  @Test
  void closeTwiceIsHarmlessAndUseAfterCloseIsRefused() throws Exception {
    ScriptModel model = TorchScript.load(
        ScriptFixtures.file(ScriptFixtures.caseNamed("tuple_scripted")), CPU);
    model.module();
    model.close();
    model.close();
    assertThrows(IllegalStateException.class, model::stateDict);
  }

  @Test
  void stateDictIsDetachedButShared() throws Exception {
    JsonNode c = ScriptFixtures.caseNamed("tuple_traced");
    try (ScriptModel model = TorchScript.load(ScriptFixtures.file(c), CPU)) {
      Map<String, Tensor> first = model.stateDict();
      Map<String, Tensor> second = new LinkedHashMap<>(model.stateDict());
      for (String key : first.keySet()) {
        assertFalse(first.get(key).requires_grad(), key + " detached, as Python's state_dict");
        assertEquals(first.get(key).data_ptr().address(), second.get(key).data_ptr().address());
      }
    }
  }

  private static void assertOneLine(Exception e) {
    assertFalse(e.getMessage().contains("\n"), "one line: " + e.getMessage());
    assertFalse(e.getMessage().contains("Exception raised from"), e.getMessage());
  }
}
