package io.ckpt4j.statedict;

import static io.ckpt4j.statedict.StateDictFixtures.assertStateDictsEqual;
import static io.ckpt4j.statedict.StateDictFixtures.loadInert;
import static io.ckpt4j.statedict.StateDictFixtures.manifest;
import static io.ckpt4j.statedict.StateDictFixtures.metadataPairs;
import static io.ckpt4j.statedict.StateDictFixtures.stateDict;
import static io.ckpt4j.statedict.StateDictFixtures.strings;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.ckpt4j.CheckpointException;
import io.ckpt4j.CheckpointException.Kind;
import io.ckpt4j.Refusals;
import io.ckpt4j.load.CheckpointLoader;
import io.ckpt4j.load.LoadOptions;
import io.ckpt4j.load.LoadedCheckpoint;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.bytedeco.pytorch.Module;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * torch.save(model) files (a __main__ class, DataParallel-wrapped, legacy format, inside a
 * checkpoint, with tied weights): the state_dict worked out from the inert object tree is
 * Python's model.state_dict() — keys, order, _metadata, tensors bit for bit, shared memory.
 */
class WholeModuleTest {
  static Stream<String> files() {
    List<String> files = new ArrayList<>();
    manifest().get("whole").forEach(c -> files.add(c.get("file").asText()));
    return files.stream();
  }

  private static JsonNode pythonCase(String file) {
    for (JsonNode c : manifest().get("whole")) {
      if (c.get("file").asText().equals(file)) return c;
    }
    throw new AssertionError(file);
  }

  @Test
  void aWholeModuleIsNoStateDictAndTheRefusalSaysWhatReadsIt() throws Exception {
    try (LoadedCheckpoint ckpt = loadInert("whole_net.pt")) {
      CheckpointException e = Refusals.assertRefused(Kind.WRONG_LOADER, () -> StateDict.from(ckpt));
      assertTrue(e.getMessage().endsWith("not a state_dict: use StateDict.extract or"
          + " StateDict.fromWholeModule"), e.getMessage());
      try (StateDict extracted = StateDict.extract(ckpt);
          StateDict whole = StateDict.fromWholeModule(ckpt)) { // the hint, both ways
        assertFalse(extracted.keys().isEmpty());
        assertEquals(List.copyOf(extracted.keys()), List.copyOf(whole.keys()));
      }
    }
  }

  @ParameterizedTest
  @MethodSource("files")
  void extractsThePythonStateDict(String file) throws Exception {
    JsonNode python = pythonCase(file);
    try (LoadedCheckpoint ckpt = loadInert(file);
        StateDict sd = StateDict.extract(ckpt);
        StateDict expected = stateDict(python.get("expected_file").asText())) {
      assertEquals(strings(python.get("keys")), List.copyOf(sd.keys()), file);
      assertEquals(metadataPairs(python.get("metadata")), metadataPairs(sd.metadata()), file);
      assertStateDictsEqual(expected, sd, file);
      for (String key : sd.keys()) assertFalse(sd.get(key).requires_grad(), key + " detached");
      List<List<String>> shared = new ArrayList<>();
      List<String> keys = List.copyOf(sd.keys());
      for (int i = 0; i < keys.size(); i++) {
        for (int j = 0; j < i; j++) {
          if (sameMemory(sd.get(keys.get(i)), sd.get(keys.get(j)))) {
            shared.add(List.of(keys.get(i), keys.get(j)));
            break;
          }
        }
      }
      List<List<String>> pythonShared = new ArrayList<>();
      python.get("same_memory").forEach(p -> pythonShared.add(strings(p)));
      assertEquals(pythonShared, shared, file + ": entries sharing memory");
    }
  }

  private static boolean sameMemory(Tensor a, Tensor b) {
    return a.data_ptr().address() == b.data_ptr().address();
  }

  @Test
  void theExtractedWeightsLoadStrictlyIntoTheJavaModel() throws Exception {
    Module plain = JavaNet.net();
    try (LoadedCheckpoint ckpt = loadInert("whole_net.pt");
        StateDict sd = StateDict.fromWholeModule(ckpt)) {
      assertTrue(sd.loadInto(plain, LoadStateDictOptions.defaults()).isEmpty());
    }
    Module wrapper = JavaNet.wrapped(JavaNet.net());
    try (LoadedCheckpoint ckpt = loadInert("whole_data_parallel.pt");
        StateDict sd = StateDict.fromWholeModule(ckpt);
        StateDict expected = StateDict.of(plain)) {
      assertTrue(sd.loadInto(wrapper, LoadStateDictOptions.defaults()).isEmpty());
      try (StateDict loaded = StateDict.of(wrapper); StateDict stripped = loaded.stripPrefix()) {
        assertStateDictsEqual(expected, stripped, "DataParallel whole model");
      }
    }
  }

  static Stream<String> refusedFiles() {
    List<String> files = new ArrayList<>();
    manifest().get("whole_refused").forEach(c -> files.add(c.get("file").asText()));
    return files.stream();
  }

  /**
   * A module that contains itself, _parameters that is no dict, a parameter that is no tensor
   * (Python's state_dict() fails on each), a quantized module (whose keys only its own
   * _save_to_state_dict knows): one-line errors, never a wrong state_dict.
   */
  @ParameterizedTest
  @MethodSource("refusedFiles")
  void modulesWithoutAStateDictAWalkCanGiveAreErrors(String file) throws Exception {
    JsonNode python = null;
    for (JsonNode c : manifest().get("whole_refused")) {
      if (c.get("file").asText().equals(file)) python = c;
    }
    if (file.equals("whole_quantized.pt")) {
      assertTrue(strings(python.get("python_keys")).contains("_packed_params._packed_params"));
    }
    CheckpointException e = Refusals.assertRefused(Kind.valueOf(python.get("kind").asText()),
        () -> {
          try (LoadedCheckpoint ckpt = loadInert(file); StateDict sd = StateDict.extract(ckpt)) {
            throw new AssertionError("extracted " + sd.keys());
          }
        });
    if (!python.has("hint_file")) return; // the reader refused it: no state_dict advice
    // The hint, applied in Python (the state_dict of a module that works): it loads.
    assertTrue(e.getMessage().endsWith(python.get("python_error").isNull()
        ? "save model.state_dict() in Python instead"
        : "save model.state_dict() where the model works"), e.getMessage());
    try (LoadedCheckpoint ckpt = StateDictFixtures.load(python.get("hint_file").asText());
        StateDict sd = StateDict.from(ckpt)) {
      assertFalse(sd.keys().isEmpty());
      if (python.has("python_keys")) {
        assertEquals(strings(python.get("python_keys")), List.copyOf(sd.keys()));
      }
    }
  }

  @Test
  void withoutInertObjectsTheReaderRefusesTheModuleClass() {
    CheckpointException e = Refusals.assertRefused(Kind.REFUSED_GLOBAL,
        () -> StateDictFixtures.load("whole_net.pt").close());
    assertTrue(e.getMessage().contains("__main__.Net"), e.getMessage());
  }

  @Test
  void theRefusalsHintReadsTheModuleOneAllowedGlobalAtATime() throws Exception {
    Path file = StateDictFixtures.dir().resolve("whole_net.pt");
    LoadOptions options = LoadOptions.defaults();
    List<String> allowed = new ArrayList<>();
    while (true) {
      try (LoadedCheckpoint ckpt = CheckpointLoader.load(file, options);
          StateDict sd = StateDict.extract(ckpt)) {
        assertFalse(sd.keys().isEmpty());
        break;
      } catch (CheckpointException e) {
        assertEquals(Kind.REFUSED_GLOBAL, e.kind(), e.getMessage());
        // "... if you trust the file, read it as an inert object with
        // LoadOptions.allowGlobals("NAME") (CLI: --allow-global NAME)": done as it says.
        Matcher hint = ALLOW_GLOBALS_HINT.matcher(e.getMessage());
        assertTrue(hint.find(), e.getMessage());
        assertFalse(allowed.contains(hint.group(1)), "allowed already: " + e.getMessage());
        allowed.add(hint.group(1));
        options = options.allowGlobals(hint.group(1));
      }
    }
    assertTrue(allowed.contains("__main__.Net"), allowed.toString());
  }

  private static final Pattern ALLOW_GLOBALS_HINT = Pattern.compile(
      "read it as an inert object with LoadOptions\\.allowGlobals\\(\"([^\"]+)\"\\) \\(CLI:"
          + " --allow-global \\1\\)$");

  @Test
  void aStateDictFileIsNoWholeModule() throws Exception {
    String file = manifest().get("net").get("file").asText();
    try (LoadedCheckpoint ckpt = StateDictFixtures.load(file)) {
      CheckpointException e =
          Refusals.assertRefused(Kind.WRONG_LOADER, () -> StateDict.fromWholeModule(ckpt));
      assertTrue(e.getMessage().endsWith("(for a state_dict use StateDict.from)"), e.getMessage());
      try (StateDict sd = StateDict.from(ckpt)) { // the hint, applied
        assertFalse(sd.keys().isEmpty());
      }
    }
  }
}
