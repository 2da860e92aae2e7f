package io.ckpt4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ckpt4j.load.CheckpointLoader;
import io.ckpt4j.load.LoadOptions;
import io.ckpt4j.load.LoadedCheckpoint;
import io.ckpt4j.models.ResNet;
import io.ckpt4j.save.TorchSaver;
import io.ckpt4j.statedict.StateDict;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.bytedeco.javacpp.Pointer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The README's "Java API" example, as written there (checked line by line against README.md), on
 * torchvision-shaped resnet18 weights Python saved: it runs, writes Python's weights back, and
 * leaves nothing open.
 */
class ReadmeExampleTest {
  private static final String BEGIN = "// --- as in README.md ---";
  private static final String END = "// --- end of the README's lines ---";

  @TempDir Path dir;

  /** The README's example, word for word between the markers. */
  private static void readmeExample(Path path, Path out) throws CheckpointException {
    // --- as in README.md ---
    LoadOptions cpu = LoadOptions.defaults().mapLocation("cpu");
    try (LoadedCheckpoint ckpt = CheckpointLoader.load(path, cpu); // torch.load(path, map_location=..)
        StateDict sd = StateDict.from(ckpt);              // the state_dict, or the one in a checkpoint
        ResNet model = ResNet.create("resnet18", 1000)) { // torchvision's names, LibTorch layers
      sd.loadInto(model.module());                        // model.load_state_dict(sd), strict
      try (StateDict mine = StateDict.of(model.module())) {  // model.state_dict()
        TorchSaver.save(out, mine.toPython());            // torch.save(model.state_dict(), out)
      }
    }
    // --- end of the README's lines ---
  }

  @Test
  void theTestRunsTheReadmesLines() throws IOException {
    Path root = TestData.fixtures().toAbsolutePath().getParent().getParent();
    List<String> readme = Files.readAllLines(root.resolve("README.md"));
    int section = readme.indexOf("## Java API");
    int from = indexOf(readme, "```java", section) + 1;
    List<String> example = readme.subList(from, indexOf(readme, "```", from));
    List<String> source = Files.readAllLines(
        root.resolve("tests/java/io/ckpt4j/ReadmeExampleTest.java"));
    int begin = indexOf(source, BEGIN, 0) + 1;
    assertEquals(stripped(example), stripped(source.subList(begin, indexOf(source, END, begin))),
        "README.md's Java example and readmeExample() must be the same lines");
  }

  @Test
  void theReadmeExampleRunsAndLeavesNothingOpen() throws Exception {
    Path path = TestData.dir("resnet").resolve("resnet18.pt");
    Path out = dir.resolve("out.pt");
    readmeExample(path, out); // once first: LibTorch's one-time allocations are not leaks
    long owners = OwnedResource.openCount();
    long pointers = Pointer.totalCount();
    readmeExample(path, out);
    assertEquals(owners, OwnedResource.openCount(), "ckpt4j objects left open");
    assertEquals(pointers, Pointer.totalCount(), "JavaCPP pointers left unreleased");
    // What it saved is Python's file's state_dict: the same keys in the same order, same values.
    try (LoadedCheckpoint python = CheckpointLoader.load(path, LoadOptions.defaults());
        StateDict expected = StateDict.from(python);
        LoadedCheckpoint back = CheckpointLoader.load(out, LoadOptions.defaults());
        StateDict saved = StateDict.from(back)) {
      assertEquals(new ArrayList<>(expected.keys()), new ArrayList<>(saved.keys()));
      for (String key : expected.keys()) {
        assertTrue(expected.get(key).equal(saved.get(key)), key);
      }
    }
  }

  private static int indexOf(List<String> lines, String line, int from) {
    for (int i = from; i < lines.size(); i++) if (lines.get(i).strip().equals(line)) return i;
    throw new AssertionError("no line '" + line + "' after line " + from);
  }

  private static List<String> stripped(List<String> lines) {
    List<String> out = new ArrayList<>();
    for (String line : lines) out.add(line.strip());
    return out;
  }
}
