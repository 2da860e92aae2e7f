package io.ckpt4j.statedict;

import static io.ckpt4j.statedict.StateDictFixtures.assertStateDictsEqual;
import static io.ckpt4j.statedict.StateDictFixtures.manifest;
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
import io.ckpt4j.save.SaveOptions;
import io.ckpt4j.save.TorchSaver;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
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
        CheckpointException e =
            Refusals.assertRefused(Kind.WRONG_LOADER, () -> StateDict.from(ckpt));
        if (e.getMessage().contains("several state_dicts")) {
          // The hint, applied: "pick one with StateDict.fromTree(root.get(key), checkpoint)".
          assertTrue(e.getMessage().endsWith(
              ": pick one with StateDict.fromTree(root.get(key), checkpoint)"), e.getMessage());
          String m = e.getMessage();
          String listed = m.substring(m.indexOf("(under keys [") + "(under keys [".length());
          List<String> keys = List.of(listed.substring(0, listed.indexOf(']')).split(", "));
          assertTrue(keys.size() >= 2, m);
          Map<?, ?> root = (Map<?, ?>) ckpt.root();
          for (String key : keys) {
            try (StateDict one = StateDict.fromTree(root.get(key), ckpt)) {
              assertFalse(one.keys().isEmpty(), key);
            }
          }
        }
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

  @Test
  void aStateDictBelowTheSearchDepthIsPickedWithFromTree(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("deep.pt");
    try (StateDict net = StateDictFixtures.stateDict(manifest().get("net").get("file").asText())) {
      Map<Object, Object> deep = Map.of("run", Map.of("best", Map.of("weights", net.toPython())));
      TorchSaver.save(file, deep, SaveOptions.defaults());
      try (LoadedCheckpoint ckpt = CheckpointLoader.load(file, LoadOptions.defaults())) {
        CheckpointException e =
            Refusals.assertRefused(Kind.WRONG_LOADER, () -> StateDict.from(ckpt));
        assertTrue(e.getMessage().endsWith("if one lies deeper, pick it with"
            + " StateDict.fromTree(entry, checkpoint)"), e.getMessage());
        // The hint, applied.
        Object entry = ((Map<?, ?>) ((Map<?, ?>) ((Map<?, ?>) ckpt.root()).get("run"))
            .get("best")).get("weights");
        try (StateDict picked = StateDict.fromTree(entry, ckpt)) {
          assertStateDictsEqual(net, picked, "picked");
        }
      }
    }
  }
}
