package io.ckpt4j.load;

import static io.ckpt4j.JsonAssert.assertJsonEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.ckpt4j.CheckpointException;
import io.ckpt4j.CheckpointException.Kind;
import io.ckpt4j.CliRun;
import io.ckpt4j.Refusals;
import io.ckpt4j.TestData;
import io.ckpt4j.cli.InspectJson;
import io.ckpt4j.value.AssembledSource;
import io.ckpt4j.value.StorageRef;
import io.ckpt4j.value.TensorRef;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.io.TempDir;

/**
 * torch.distributed.checkpoint directories that tests/python/make_dcp.py wrote with torch 2.13 —
 * one process, and two Gloo ranks saving row-, column-sharded and replicated DTensors — read
 * through their directory or .metadata: the same inspect --json document, SHA-256 for SHA-256, as
 * Python's dcp_to_torch_save gives, eager and lazy; broken copies refused with the right kind.
 */
class DcpCheckpointTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  @TestFactory
  Stream<DynamicTest> everyCaseAsPythonLoadsIt() {
    Path dir = TestData.dir("dcp");
    List<DynamicTest> tests = new ArrayList<>();
    for (JsonNode c : TestData.manifest("dcp").get("read")) {
      tests.add(DynamicTest.dynamicTest(c.get("name").asText(), () -> {
        if (c.get("error").isNull()) {
          matchesPython(dir, c);
        } else {
          refused(dir, c);
        }
      }));
    }
    assertTrue(tests.size() >= 8, "cases: " + tests.size());
    return tests.stream();
  }

  private static void matchesPython(Path dir, JsonNode c) throws IOException {
    Path path = dir.resolve(c.get("open").asText());
    JsonNode expected = JSON.readTree(dir.resolve(c.get("expected").asText()).toFile());
    assertEquals("dcp", CheckpointLoader.detect(path).jsonName());
    for (boolean lazy : new boolean[] {false, true}) {
      LoadOptions options = LoadOptions.defaults().mmap(lazy);
      try (LoadedCheckpoint ckpt = CheckpointLoader.load(path, options)) {
        assertEquals(Format.DCP, ckpt.format());
        assembledFromChunks(ckpt, c);
        assertJsonEquals(expected, JSON.valueToTree(InspectJson.document(ckpt)),
            path + (lazy ? " (lazy)" : " (eager)"));
      }
    }
  }

  /** Every tensor is assembled from the chunks the metadata lists (two for sharded ones). */
  private static void assembledFromChunks(LoadedCheckpoint ckpt, JsonNode c) {
    for (TensorRef ref : ckpt.tensorRefs()) {
      assertInstanceOf(AssembledSource.class, ref.storage().source(), ref.storage().key());
    }
    if (!c.has("chunks")) return;
    for (StorageRef s : ckpt.storages()) {
      JsonNode count = c.get("chunks").get(s.key());
      if (count != null) {
        assertEquals(count.asInt(), ((AssembledSource) s.source()).pieces().size(), s.key());
      }
    }
  }

  private static void refused(Path dir, JsonNode c) {
    Path path = dir.resolve(c.get("open").asText());
    Kind kind = Kind.valueOf(c.get("error").get("kind").asText());
    for (boolean lazy : new boolean[] {false, true}) {
      CheckpointException e = Refusals.assertRefused(kind, () -> {
        try (LoadedCheckpoint ckpt = CheckpointLoader.load(path, LoadOptions.defaults()
            .mmap(lazy))) {
          for (TensorRef ref : ckpt.tensorRefs()) ckpt.tensor(ref);
        }
      }, c.get("name").asText());
      for (JsonNode m : c.get("error").get("mentions")) {
        assertTrue(e.getMessage().contains(m.asText()), "'" + m.asText() + "' not in: "
            + e.getMessage());
      }
    }
  }

  /**
   * Lazy: opening reads the .metadata only — a data file damaged after the open is found when a
   * tensor with a chunk in it is first touched, not before.
   */
  @Test
  void lazyOpenReadsNoChunk(@TempDir Path tmp) throws Exception {
    Path dir = tmp.resolve("ranks2");
    Files.createDirectories(dir);
    try (Stream<Path> files = Files.list(TestData.dir("dcp").resolve("ranks2"))) {
      for (Path f : files.toList()) Files.copy(f, dir.resolve(f.getFileName()));
    }
    try (LoadedCheckpoint ckpt = CheckpointLoader.load(dir, LoadOptions.defaults().mmap(true))) {
      Path rank1 = dir.resolve("__1_0.distcp");
      Files.write(rank1, new byte[(int) Files.size(rank1)]);
      Map<?, ?> model = (Map<?, ?>) ((Map<?, ?>) ckpt.root()).get("model");
      Refusals.assertRefused(Refusals.DAMAGED, () -> ckpt.tensor((TensorRef) model.get("rows")),
          "a chunk zeroed after the open");
    }
  }

  /** A .distcp opened alone says to open its directory; doing so loads the checkpoint. */
  @Test
  void aDataFileAloneNamesItsDirectory() throws Exception {
    Path dir = TestData.dir("dcp").resolve("ranks2");
    Path shard = dir.resolve("__0_0.distcp");
    CheckpointException e = Refusals.assertRefused(Kind.UNSUPPORTED_FORMAT,
        () -> CheckpointLoader.load(shard, LoadOptions.defaults()).close());
    String hint = "open its directory ";
    int at = e.getMessage().indexOf(hint);
    assertTrue(at >= 0, e.getMessage());
    Path named = Path.of(e.getMessage().substring(at + hint.length()).split(" ")[0]);
    try (LoadedCheckpoint ckpt = CheckpointLoader.load(named, LoadOptions.defaults())) {
      assertEquals(Format.DCP, ckpt.format());
    }
  }

  @Test
  void inspectJsonSaysDcp() throws Exception {
    Path dir = TestData.dir("dcp");
    CliRun run = CliRun.of("inspect", "--json", dir.resolve("single").toString());
    assertEquals(0, run.exit(), run.stderr());
    JsonNode doc = JSON.readTree(run.stdout());
    assertEquals("dcp", doc.get("format").asText());
    assertJsonEquals(JSON.readTree(dir.resolve("single.expected.json").toFile()), doc,
        "inspect --json");
    assertFalse(run.stdout().isEmpty());
  }
}
