package io.ckpt4j.statedict;

import static io.ckpt4j.statedict.StateDictFixtures.assertBitwiseEqual;
import static io.ckpt4j.statedict.StateDictFixtures.assertStateDictsEqual;
import static io.ckpt4j.statedict.StateDictFixtures.manifest;
import static io.ckpt4j.statedict.StateDictFixtures.stateDict;
import static io.ckpt4j.statedict.StateDictFixtures.strings;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.ckpt4j.CheckpointException;
import io.ckpt4j.CheckpointException.Kind;
import io.ckpt4j.Refusals;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import org.bytedeco.pytorch.Module;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * StateDict.loadInto against Python's load_state_dict on the same state_dicts: the same
 * missing_keys and unexpected_keys in the same order with strict=False, an error exactly where
 * Python raises with strict=True, and the same values loaded.
 */
class LoadStateDictTest {
  static Stream<String> cases() {
    List<String> names = new ArrayList<>();
    manifest().get("load_cases").forEach(c -> names.add(c.get("name").asText()));
    return names.stream();
  }

  private static JsonNode pythonCase(String name) {
    for (JsonNode c : manifest().get("load_cases")) {
      if (c.get("name").asText().equals(name)) return c;
    }
    throw new AssertionError("no load case " + name);
  }

  @ParameterizedTest
  @MethodSource("cases")
  void nonStrictReportsWhatPythonReports(String name) throws Exception {
    JsonNode python = pythonCase(name);
    Module module = JavaNet.net();
    try (StateDict sd = stateDict(python.get("file").asText())) {
      LoadStateDictOptions options = LoadStateDictOptions.defaults().strict(false);
      if (python.path("non_strict_raises").asBoolean()) {
        CheckpointException e = Refusals.assertRefused(Kind.STATE_DICT_MISMATCH,
            () -> sd.loadInto(module, options));
        for (JsonNode key : python.get("size_mismatch_non_strict")) {
          assertTrue(e.getMessage().contains(key.asText()), e.getMessage());
        }
        return;
      }
      IncompatibleKeys keys = sd.loadInto(module, options);
      assertEquals(strings(python.get("missing_keys")), keys.missingKeys(), name);
      assertEquals(strings(python.get("unexpected_keys")), keys.unexpectedKeys(), name);
      assertTrue(keys.shapeMismatches().isEmpty());
      assertLoadedAsPython(module, sd, keys, python.get("after").asText());
    }
  }

  @ParameterizedTest
  @MethodSource("cases")
  void strictFailsWherePythonFailsWithOneLine(String name) throws Exception {
    JsonNode python = pythonCase(name);
    Module module = JavaNet.net();
    try (StateDict sd = stateDict(python.get("file").asText());
        StateDict before = StateDict.of(module)) {
      LoadStateDictOptions strict = LoadStateDictOptions.defaults();
      if (!python.get("strict_raises").asBoolean()) {
        assertTrue(sd.loadInto(module, strict).isEmpty());
        return;
      }
      String message = Refusals.assertRefused(Kind.STATE_DICT_MISMATCH,
          () -> sd.loadInto(module, strict)).getMessage();
      List<String> problems = new ArrayList<>(strings(python.path("size_mismatch")));
      if (python.has("missing_keys")) {
        problems.addAll(strings(python.get("missing_keys")));
        problems.addAll(strings(python.get("unexpected_keys")));
        int missing = python.get("missing_keys").size();
        int unexpected = python.get("unexpected_keys").size();
        if (missing > 0) assertTrue(message.contains("missing_keys (" + missing + ")"), message);
        if (unexpected > 0) {
          assertTrue(message.contains("unexpected_keys (" + unexpected + ")"), message);
        }
      }
      int named = 0;
      for (String key : problems) if (message.contains("\"" + key + "\"")) named++;
      assertTrue(named >= Math.min(problems.size(), LoadErrors.KEYS_SHOWN), message);
      try (StateDict after = StateDict.of(module)) {
        assertStateDictsEqual(before, after, "a failed load changes nothing");
      }
      applyTheHint(message, module, sd, strings(python.path("size_mismatch")));
    }
  }

  /** Does what the last sentence of a failed load's message says; the load must then work. */
  private static void applyTheHint(String message, Module module, StateDict sd,
      List<String> sizeMismatches) throws CheckpointException {
    LoadStateDictOptions nonStrict = LoadStateDictOptions.defaults().strict(false);
    if (message.endsWith("or load the keys that match with LoadStateDictOptions.strict(false)")) {
      sd.loadInto(module, nonStrict);
    } else if (message.endsWith(
        "or leave those keys out (StateDict.filter) and load with strict(false)")) {
      try (StateDict kept = sd.filter(key -> !sizeMismatches.contains(key))) {
        kept.loadInto(module, nonStrict);
      }
    } else if (message.contains("(saved from a wrapper): strip it with StateDict.stripPrefix(")) {
      String call = "stripPrefix(\"";
      String prefix = message.substring(message.indexOf(call) + call.length());
      prefix = prefix.substring(0, prefix.indexOf('"'));
      try (StateDict stripped = sd.stripPrefix(prefix)) {
        stripped.loadInto(module, LoadStateDictOptions.defaults());
      }
    } else {
      throw new AssertionError("no hint this test knows how to apply: " + message);
    }
  }

  @Test
  void sizeMismatchesAreReportedWithBothShapes() throws Exception {
    JsonNode python = pythonCase("size_mismatch");
    Module module = JavaNet.net();
    try (StateDict sd = stateDict(python.get("file").asText())) {
      String message = Refusals.assertRefused(Kind.STATE_DICT_MISMATCH,
          () -> sd.loadInto(module, LoadStateDictOptions.defaults().strict(false)))
          .getMessage();
      try (StateDict own = StateDict.of(module)) {
        for (String key : strings(python.get("size_mismatch"))) {
          String expected = "\"" + key + "\" "
              + java.util.Arrays.toString(StateDictFixtures.shape(sd.get(key)))
              + " in checkpoint, "
              + java.util.Arrays.toString(StateDictFixtures.shape(own.get(key))) + " in module";
          assertTrue(message.contains(expected), message + " lacks " + expected);
        }
      }
    }
  }

  @Test
  void theThreeRemediesForDataParallelKeys() throws Exception {
    JsonNode prefixes = manifest().get("prefixes");
    String plainFile = manifest().get("net").get("file").asText();
    try (StateDict dp = stateDict(prefixes.get("data_parallel").get("file").asText());
        StateDict plain = stateDict(plainFile)) {
      // Strict loading of module. keys into the plain model fails and says how to fix it; each
      // way the hint names is applied below.
      String message = Refusals.assertRefused(Kind.STATE_DICT_MISMATCH,
          () -> dp.loadInto(JavaNet.net(), LoadStateDictOptions.defaults()))
          .getMessage();
      assertTrue(message.endsWith("The state_dict's keys start with 'module.' (saved from a"
          + " wrapper): strip it with StateDict.stripPrefix(\"module.\") or"
          + " LoadStateDictOptions.fixModulePrefix(true), or load into the same wrapper"), message);

      // 1. strip module.
      Module stripped = JavaNet.net();
      try (StateDict sd = dp.stripPrefix("module.")) {
        assertTrue(sd.loadInto(stripped, LoadStateDictOptions.defaults()).isEmpty());
      }
      assertModuleHolds(stripped, plain);
      // 1b. the same, done by the loader
      Module fixed = JavaNet.net();
      assertTrue(dp.loadInto(fixed,
          LoadStateDictOptions.defaults().fixModulePrefix(true)).isEmpty());
      assertModuleHolds(fixed, plain);
      // 2. wrap the model in a DataParallel-like wrapper at load
      Module inner = JavaNet.net();
      Module wrapper = JavaNet.wrapped(inner);
      assertTrue(dp.loadInto(wrapper, LoadStateDictOptions.defaults()).isEmpty());
      assertModuleHolds(inner, plain);
      try (StateDict wrapped = StateDict.of(wrapper)) {
        assertEquals(strings(prefixes.get("data_parallel").get("keys")),
            List.copyOf(wrapped.keys()));
      }
      // 3. the other way: plain keys into a wrapper fail, and say how to fix it
      Module inner2 = JavaNet.net();
      Module wrapper2 = JavaNet.wrapped(inner2);
      message = Refusals.assertRefused(Kind.STATE_DICT_MISMATCH,
          () -> plain.loadInto(wrapper2, LoadStateDictOptions.defaults())).getMessage();
      assertTrue(message.endsWith("The module's keys start with 'module.' and the state_dict's do"
          + " not: load into the wrapped module, or use LoadStateDictOptions.fixModulePrefix(true)"),
          message);
      assertTrue(plain.loadInto(wrapper2,
          LoadStateDictOptions.defaults().fixModulePrefix(true)).isEmpty());
      assertModuleHolds(inner2, plain);
      // 3b. into the wrapped module itself
      Module inner3 = JavaNet.net();
      JavaNet.wrapped(inner3);
      assertTrue(plain.loadInto(inner3, LoadStateDictOptions.defaults()).isEmpty());
      assertModuleHolds(inner3, plain);
    }
  }

  @Test
  void compiledModelsKeysLoadWithFixModulePrefix() throws Exception {
    JsonNode prefixes = manifest().get("prefixes");
    try (StateDict plain = stateDict(manifest().get("net").get("file").asText())) {
      for (String which : List.of("compiled", "data_parallel_compiled")) {
        Module module = JavaNet.net();
        try (StateDict sd = stateDict(prefixes.get(which).get("file").asText())) {
          assertTrue(sd.loadInto(module,
              LoadStateDictOptions.defaults().fixModulePrefix(true)).isEmpty(), which);
        }
        assertModuleHolds(module, plain);
      }
    }
  }

  private static void assertModuleHolds(Module module, StateDict expected) {
    try (StateDict actual = StateDict.of(module)) {
      assertStateDictsEqual(expected, actual, "loaded module");
    }
  }

  /** Every key that was loaded holds what Python's module held after its load. */
  private static void assertLoadedAsPython(Module module, StateDict sd, IncompatibleKeys keys,
      String afterFile) throws Exception {
    Set<String> notLoaded = new HashSet<>(keys.missingKeys());
    try (StateDict after = stateDict(afterFile); StateDict actual = StateDict.of(module)) {
      int compared = 0;
      for (String key : actual.keys()) {
        if (notLoaded.contains(key) || !sd.containsKey(key)) continue;
        assertBitwiseEqual(after.get(key), actual.get(key), key);
        compared++;
      }
      assertEquals(sd.keys().stream().filter(actual::containsKey).count(), compared);
    }
  }
}
