package io.ckpt4j.load;

import static io.ckpt4j.JsonAssert.assertJsonEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.ckpt4j.CheckpointException;
import io.ckpt4j.CheckpointException.Kind;
import io.ckpt4j.Refusals;
import io.ckpt4j.TestData;
import io.ckpt4j.cli.InspectJson;
import io.ckpt4j.pickle.UnsupportedGlobalException;
import io.ckpt4j.tensor.MapLocation;
import io.ckpt4j.value.TensorRef;
import io.ckpt4j.value.TreeWalker;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * Every case tests/python/make_corpus.py wrote with torch 2.13 — generated cases and the
 * real-world fixtures — read by ckpt4j and compared, leaf by leaf and hash by hash, with the
 * inspect JSON Python computed from what torch.load returned.
 */
class CorpusTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  @TestFactory
  Stream<DynamicTest> everyCaseMatchesPython() throws IOException {
    Path dir = TestData.dir("corpus");
    JsonNode index = JSON.readTree(dir.resolve("index.json").toFile());
    List<DynamicTest> tests = new ArrayList<>();
    for (JsonNode c : index.get("cases")) {
      String name = c.get("name").asText();
      tests.add(DynamicTest.dynamicTest(name, () -> check(dir, c)));
    }
    assertTrue(tests.size() >= 60, "the corpus should hold every case, found " + tests.size());
    return tests.stream();
  }

  private static void check(Path dir, JsonNode c) throws IOException {
    Path file = dir.resolve(c.get("file").asText());
    JsonNode flags = c.path("flags");
    if (c.get("expected").isNull()) {
      // torch 2.13 itself cannot read this file; ckpt4j must still answer with a checked error
      // or a result, never anything else.
      try (LoadedCheckpoint ckpt = CheckpointLoader.load(file, inspectOptions())) {
        InspectJson.document(ckpt);
      } catch (CheckpointException e) {
        // fine: a one-line refusal that says what is wrong with the file
        assertTrue(Refusals.DAMAGED.contains(e.kind()) || e.kind() == Kind.UNSUPPORTED_FORMAT,
            e.kind() + ": " + e.getMessage());
        assertFalse(e.getMessage().contains("\n"), e.getMessage());
      }
      return;
    }
    JsonNode expected = JSON.readTree(dir.resolve(c.get("expected").asText()).toFile());
    String format = expected.get("format").asText();
    assertEquals(format, CheckpointLoader.detect(file).jsonName(), "format of " + file);
    if (!expected.has("entries")) return; // an archive: only its format is reported

    LoadOptions options = inspectOptions();
    if (flags.hasNonNull("refused_by_default")) {
      String global = flags.get("refused_by_default").asText();
      UnsupportedGlobalException refused = assertThrows(UnsupportedGlobalException.class,
          () -> CheckpointLoader.load(file, inspectOptions()).close());
      assertTrue(refused.getMessage().contains(global), refused.getMessage());
      options = options.allowGlobals(global);
    }
    if (flags.path("needs_map_location").asBoolean(false)) {
      CheckpointException e = Refusals.assertRefused(Kind.DEVICE,
          () -> CheckpointLoader.load(file, LoadOptions.defaults()).close());
      assertTrue(e.getMessage().contains("map_location"), e.getMessage());
    }
    try (LoadedCheckpoint ckpt = CheckpointLoader.load(file, options)) {
      assertJsonEquals(expected, InspectJson.document(ckpt), file.getFileName().toString());
    }
    // Eager reads give the same bytes as the mapped ones inspect uses, and share what Python shares.
    try (LoadedCheckpoint ckpt = CheckpointLoader.load(file, options.mmap(false))) {
      assertJsonEquals(expected, InspectJson.document(ckpt), file.getFileName() + " (eager)");
      if (flags.has("shared_storages")) {
        assertJsonEquals(flags.get("shared_storages"), sharedStorages(ckpt),
            file.getFileName() + ": tensors sharing one storage");
      }
    }
  }

  /** Python's flag, from LibTorch: paths of tensors (2+) whose storages are the same memory. */
  private static JsonNode sharedStorages(LoadedCheckpoint ckpt) throws IOException {
    Map<Long, List<List<Object>>> byStorage = new LinkedHashMap<>();
    TreeWalker.walk(ckpt.root(), (path, value) -> {
      if (!(value instanceof TensorRef ref)) return;
      Tensor t = ckpt.tensor(ref);
      if (t.storage().nbytes() > 0) {
        byStorage.computeIfAbsent(t.storage().data().address(), k -> new ArrayList<>()).add(path);
      }
    });
    List<List<List<Object>>> groups = new ArrayList<>();
    for (List<List<Object>> g : byStorage.values()) if (g.size() > 1) groups.add(g);
    return JSON.valueToTree(groups);
  }

  /** What `ckpt4j inspect` uses: mapped, everything on the CPU. */
  private static LoadOptions inspectOptions() {
    return LoadOptions.defaults().mmap(true).mapLocation(MapLocation.to("cpu"));
  }
}
