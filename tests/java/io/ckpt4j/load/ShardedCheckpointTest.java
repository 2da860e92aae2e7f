package io.ckpt4j.load;

import static io.ckpt4j.JsonAssert.assertJsonEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.ckpt4j.CheckpointException;
import io.ckpt4j.CliRun;
import io.ckpt4j.TestData;
import io.ckpt4j.cli.InspectJson;
import io.ckpt4j.statedict.StateDict;
import io.ckpt4j.value.StorageRef;
import io.ckpt4j.value.TensorRef;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.io.TempDir;

/**
 * Hugging Face sharded checkpoints that tests/python/make_shards.py wrote as save_pretrained
 * does (safetensors shards, torch zip shards, legacy shards, one file, diffusers' index name),
 * read through their directory or index: the same inspect --json document, hash for hash, as
 * Python's loading loop ({@code json} + {@code load_file} / {@code torch.load} over the sorted
 * shards) gives, eager and lazy; broken ones refused with one line naming the shard and key.
 */
class ShardedCheckpointTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  @TestFactory
  Stream<DynamicTest> everyCaseAsPythonLoadsIt() {
    Path dir = TestData.dir("shards");
    List<DynamicTest> tests = new ArrayList<>();
    for (JsonNode c : TestData.manifest("shards").get("read")) {
      tests.add(DynamicTest.dynamicTest(c.get("name").asText(), () -> {
        if (c.get("error").isNull()) {
          matchesPython(dir, c);
        } else {
          refused(dir, c);
        }
      }));
    }
    assertTrue(tests.size() >= 14, "cases: " + tests.size());
    return tests.stream();
  }

  private static void matchesPython(Path dir, JsonNode c) throws IOException {
    Path path = dir.resolve(c.get("open").asText());
    JsonNode expected = JSON.readTree(dir.resolve(c.get("expected").asText()).toFile());
    assertEquals(c.get("format").asText(), CheckpointLoader.detect(path).jsonName());
    for (boolean lazy : new boolean[] {false, true}) {
      LoadOptions options = LoadOptions.defaults().mapLocation("cpu").mmap(lazy);
      try (LoadedCheckpoint ckpt = CheckpointLoader.load(path, options)) {
        if (lazy) openedWithoutReading(ckpt, path, c);
        assertJsonEquals(expected, JSON.valueToTree(InspectJson.document(ckpt)),
            path + (lazy ? " (lazy)" : " (eager)"));
        sharedAsInPython(ckpt, c);
        warnsOfUnnamedKeys(ckpt, c);
        try (StateDict sd = StateDict.from(ckpt)) {
          assertEquals(c.get("keys").asInt(), sd.size());
        }
      }
    }
  }

  /** Lazy: every storage is a byte range of one of the shards, nothing read into memory. */
  private static void openedWithoutReading(LoadedCheckpoint ckpt, Path path, JsonNode c) {
    Set<String> shards = new HashSet<>();
    for (JsonNode s : c.get("shards")) shards.add(s.asText());
    Set<String> files = new HashSet<>();
    for (StorageRef s : ckpt.storages()) {
      StorageRef.FileRange range = assertInstanceOf(StorageRef.FileRange.class, s.source(),
          "storage " + s.key() + " of " + path);
      files.add(range.file().getFileName().toString());
    }
    assertTrue(shards.containsAll(files), files + " not among " + shards);
  }

  private static void sharedAsInPython(LoadedCheckpoint ckpt, JsonNode c)
      throws CheckpointException {
    Map<?, ?> root = (Map<?, ?>) ckpt.root();
    for (JsonNode group : c.get("shared")) {
      TensorRef first = (TensorRef) root.get(group.get(0).asText());
      Tensor a = ckpt.tensor(first);
      for (JsonNode key : group) {
        TensorRef ref = (TensorRef) root.get(key.asText());
        assertEquals(first.storage().root(), ref.storage().root(), key.asText());
        try (var sa = a.storage(); var sb = ckpt.tensor(ref).storage()) {
          assertEquals(sa.data().address(), sb.data().address(), key + " shares " + group);
        }
      }
    }
  }

  private static void warnsOfUnnamedKeys(LoadedCheckpoint ckpt, JsonNode c) {
    if (c.get("unnamed").isEmpty()) {
      assertEquals(List.of(), ckpt.warnings());
      return;
    }
    assertEquals(1, ckpt.warnings().size(), ckpt.warnings().toString());
    String warning = ckpt.warnings().get(0);
    assertFalse(warning.contains("\n"), warning);
    for (JsonNode key : c.get("unnamed")) assertTrue(warning.contains(key.asText()), warning);
  }

  private static void refused(Path dir, JsonNode c) {
    Path path = dir.resolve(c.get("open").asText());
    for (boolean lazy : new boolean[] {false, true}) {
      CheckpointException e = assertThrows(CheckpointException.class, () ->
          CheckpointLoader.load(path, LoadOptions.defaults().mmap(lazy)).close(),
          c.get("error").get("kind").asText());
      String message = e.getMessage();
      assertFalse(message.contains("\n"), message);
      for (JsonNode m : c.get("error").get("mentions")) {
        assertTrue(message.contains(m.asText()), "'" + m.asText() + "' not in: " + message);
      }
    }
  }

  @Test
  void inspectJsonOfADirectoryAndOfItsIndex() throws IOException {
    Path dir = TestData.dir("shards");
    JsonNode expected = JSON.readTree(dir.resolve("safetensors.expected.json").toFile());
    for (Path path : List.of(dir.resolve("safetensors"),
        dir.resolve("safetensors/model.safetensors.index.json"))) {
      CliRun run = CliRun.of("inspect", "--json", path.toString());
      assertEquals(0, run.exit(), run.stderr());
      JsonNode doc = JSON.readTree(run.stdout());
      assertEquals("hf-sharded", doc.get("format").asText());
      assertJsonEquals(expected, doc, "inspect --json " + path);
    }
  }

  @Test
  void convertConsolidatesShardsIntoOneFile(@TempDir Path out) throws IOException {
    Path dir = TestData.dir("shards");
    JsonNode expected = JSON.readTree(dir.resolve("torch.expected.json").toFile());
    Path target = out.resolve("consolidated.pt");
    CliRun run = CliRun.of("convert", dir.resolve("torch").toString(), target.toString());
    assertEquals(0, run.exit(), run.stderr());
    try (LoadedCheckpoint ckpt = CheckpointLoader.load(target, LoadOptions.defaults())) {
      assertEquals(Format.ZIP, ckpt.format());
      assertJsonEquals(expected.get("entries"),
          JSON.valueToTree(InspectJson.document(ckpt)).get("entries"), "convert " + target);
    }
  }

  @Test
  void inspectWarnsOfKeysTheIndexDoesNotName() {
    Path dir = TestData.dir("shards").resolve("unnamed_key");
    CliRun run = CliRun.of("inspect", dir.toString());
    assertEquals(0, run.exit(), run.stderr());
    List<String> warnings = run.errorLines();
    assertEquals(1, warnings.size(), run.stderr());
    assertTrue(warnings.get(0).startsWith("warning: ") && warnings.get(0).contains("stray.weight"),
        warnings.get(0));
    assertTrue(run.stdout().contains("(hf-sharded format)"), run.stdout());
  }

  @Test
  void aBrokenDirectoryExitsOneWithOneLine() {
    Path dir = TestData.dir("shards").resolve("missing_shard");
    CliRun run = CliRun.of("inspect", "--json", dir.toString());
    assertEquals(1, run.exit());
    List<String> lines = run.errorLines();
    assertEquals(1, lines.size(), run.stderr());
    assertTrue(lines.get(0).contains("missing"), lines.get(0));
  }
}
