package io.ckpt4j;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.ckpt4j.load.CheckpointLoader;
import io.ckpt4j.load.LoadOptions;
import io.ckpt4j.load.LoadedCheckpoint;
import io.ckpt4j.models.ResNet;
import io.ckpt4j.save.TorchSaver;
import io.ckpt4j.statedict.StateDict;
import java.nio.file.Path;
import java.util.ArrayList;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The README's "Java API" example, as written there, on torchvision-shaped resnet18 weights. */
class ReadmeExampleTest {
  @TempDir Path out;

  @Test
  void theReadmeExampleRuns() throws Exception {
    Path path = TestData.dir("resnet").resolve("resnet18.pt");
    Path saved = out.resolve("out.pt");
    // --- as in README.md ---
    try (LoadedCheckpoint ckpt = CheckpointLoader.load(path, LoadOptions.defaults().mapLocation("cpu"))) {
      StateDict sd = StateDict.from(ckpt);
      ResNet model = ResNet.create("resnet18", 1000);
      sd.loadInto(model.module());
      TorchSaver.save(saved, StateDict.of(model.module()).toPython());
      // --- end of the README's lines ---
      try (sd; model; LoadedCheckpoint back = CheckpointLoader.load(saved, LoadOptions.defaults());
          StateDict again = StateDict.from(back)) {
        assertEquals(new ArrayList<>(sd.keys()), new ArrayList<>(again.keys()));
      }
    }
  }
}
