package io.ckpt4j.statedict;

import static io.ckpt4j.statedict.StateDictFixtures.assertStateDictsEqual;
import static io.ckpt4j.statedict.StateDictFixtures.loadInert;
import static io.ckpt4j.statedict.StateDictFixtures.manifest;
import static io.ckpt4j.statedict.StateDictFixtures.metadataPairs;
import static io.ckpt4j.statedict.StateDictFixtures.stateDict;
import static io.ckpt4j.statedict.StateDictFixtures.strings;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.ckpt4j.CheckpointException;
import io.ckpt4j.load.LoadedCheckpoint;
import java.util.ArrayList;
import java.util.List;
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
    if (python.get("python_error").isNull()) {
      assertTrue(strings(python.get("python_keys")).contains("_packed_params._packed_params"));
    }
    CheckpointException e = assertThrows(CheckpointException.class, () -> {
      try (LoadedCheckpoint ckpt = loadInert(file); StateDict sd = StateDict.extract(ckpt)) {
        throw new AssertionError("extracted " + sd.keys());
      }
    });
    assertFalse(e.getMessage().contains("\n"), e.getMessage());
  }

  @Test
  void withoutInertObjectsTheReaderRefusesTheModuleClass() {
    CheckpointException e = assertThrows(CheckpointException.class,
        () -> StateDictFixtures.load("whole_net.pt").close());
    assertTrue(e.getMessage().contains("__main__.Net"), e.getMessage());
  }

  @Test
  void aStateDictFileIsNoWholeModule() throws Exception {
    String file = manifest().get("net").get("file").asText();
    try (LoadedCheckpoint ckpt = StateDictFixtures.load(file)) {
      CheckpointException e =
          assertThrows(CheckpointException.class, () -> StateDict.fromWholeModule(ckpt));
      assertTrue(e.getMessage().contains("StateDict.from"), e.getMessage());
    }
  }
}
