package io.ckpt4j.statedict;

import static io.ckpt4j.statedict.StateDictFixtures.assertStateDictsEqual;
import static io.ckpt4j.statedict.StateDictFixtures.manifest;
import static io.ckpt4j.statedict.StateDictFixtures.strings;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.fasterxml.jackson.databind.JsonNode;
import io.ckpt4j.CheckpointException;
import io.ckpt4j.load.LoadedCheckpoint;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * StateDict.from finds the state_dict Python put inside a checkpoint dict ('model_state_dict',
 * 'state_dict', 'model', 'net', an unknown name, one level down), and refuses none or several.
 */
class StateDictSearchTest {
  static Stream<String> files() {
    List<String> files = new ArrayList<>();
    manifest().get("search").forEach(c -> files.add(c.get("file").asText()));
    return files.stream();
  }

  @ParameterizedTest
  @MethodSource("files")
  void findsTheStateDictPythonSaved(String file) throws Exception {
    JsonNode python = null;
    for (JsonNode c : manifest().get("search")) if (c.get("file").asText().equals(file)) python = c;
    try (LoadedCheckpoint ckpt = StateDictFixtures.load(file)) {
      if (python.get("error").asBoolean()) {
        CheckpointException e = assertThrows(CheckpointException.class, () -> StateDict.from(ckpt));
        assertFalse(e.getMessage().contains("\n"), e.getMessage());
        return;
      }
      try (StateDict found = StateDict.from(ckpt);
          StateDict extracted = StateDict.extract(ckpt);
          StateDict net = StateDictFixtures.stateDict(manifest().get("net").get("file").asText())) {
        assertEquals(strings(python.get("keys")), List.copyOf(found.keys()), file);
        assertStateDictsEqual(net, found, file);
        assertEquals(List.copyOf(found.keys()), List.copyOf(extracted.keys()), file);
      }
    }
  }
}
