package io.ckpt4j.libtorch;

import static io.ckpt4j.libtorch.ScriptFixtures.assertStateDict;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.ckpt4j.CheckpointException;
import io.ckpt4j.CheckpointException.Kind;
import io.ckpt4j.Refusals;
import io.ckpt4j.cli.Main;
import io.ckpt4j.load.CheckpointLoader;
import io.ckpt4j.load.LoadOptions;
import io.ckpt4j.load.LoadedCheckpoint;
import io.ckpt4j.statedict.StateDict;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 10 item 4: a TorchScript archive's weights out, as a plain weights-only file. Python
 * (make_torchscript.py --check) reads what {@code ckpt4j convert} wrote with
 * {@code torch.load(F, weights_only=True)} and compares it with
 * {@code torch.jit.load(archive).state_dict()}: names, order, values bit-exact.
 */
class TorchScriptWeightsTest {

  /** ckpt4j convert ARCHIVE OUT, for every fixture archive; then Python reads OUT. */
  @Test
  void convertWritesTheArchivesStateDictThatPythonLoadsWeightsOnly(@TempDir Path out)
      throws Exception {
    List<Map<String, String>> weights = new ArrayList<>();
    for (JsonNode c : ScriptFixtures.list("cases")) {
      String name = c.get("name").asText();
      Path file = out.resolve(name.replace(".pt", "") + ".weights.pt");
      assertEquals(0, Main.run("convert", ScriptFixtures.file(c).toString(), file.toString()),
          "ckpt4j convert " + name);
      // The file is a plain torch.save checkpoint: the safe reader takes it.
      try (LoadedCheckpoint written = CheckpointLoader.load(file, LoadOptions.defaults());
          StateDict sd = StateDict.from(written);
          LoadedCheckpoint state = ScriptFixtures.tensors(c.get("state_dict").get("file")
              .asText())) {
        assertStateDict(ScriptFixtures.strings(c.get("state_dict").get("names")), state,
            sd.asMap(), name + " converted");
      }
      weights.add(Map.of("case", name, "file", file.getFileName().toString()));
    }
    ScriptFixtures.writeJson(out.resolve(ScriptFixtures.JAVA_MANIFEST),
        Map.of("weights", weights));
    String report = ScriptFixtures.checkWithPython(out);
    assertTrue(report.contains(weights.size() + " ok, 0 failed"), report);
  }

  /** The reader refuses an archive by default; its hint, TorchScript.stateDict, applied. */
  @Test
  void theReaderRefusesAnArchiveAndTheHintGivesItsWeights() throws Exception {
    JsonNode c = ScriptFixtures.caseNamed("convnet_scripted");
    Path file = ScriptFixtures.file(c);
    CheckpointException e = Refusals.assertRefused(Kind.WRONG_LOADER,
        () -> CheckpointLoader.load(file, LoadOptions.defaults()).close());
    assertTrue(e.getMessage().contains("is a TorchScript archive")
        && e.getMessage().contains("TorchScript.stateDict(file)"), e.getMessage());
    try (StateDict sd = TorchScript.stateDict(file);
        LoadedCheckpoint state = ScriptFixtures.tensors(c.get("state_dict").get("file")
            .asText())) {
      assertStateDict(ScriptFixtures.strings(c.get("state_dict").get("names")), state,
          sd.asMap(), "TorchScript.stateDict");
    }
  }

  /** ScriptModel.toStateDict: its tensors outlive the model's close. */
  @Test
  void toStateDictOutlivesTheModel() throws Exception {
    JsonNode c = ScriptFixtures.caseNamed("convnet_scripted");
    StateDict sd;
    try (ScriptModel model = TorchScript.load(ScriptFixtures.file(c), "cpu")) {
      sd = model.toStateDict();
    }
    try (StateDict owned = sd;
        LoadedCheckpoint state = ScriptFixtures.tensors(c.get("state_dict").get("file")
            .asText())) {
      assertStateDict(ScriptFixtures.strings(c.get("state_dict").get("names")), state,
          owned.asMap(), "after the model's close");
    }
  }
}
