package io.ckpt4j.load;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.ckpt4j.CheckpointException;
import io.ckpt4j.CheckpointException.Kind;
import io.ckpt4j.CliRun;
import io.ckpt4j.Refusals;
import io.ckpt4j.TestData;
import io.ckpt4j.container.zip.ZipArchive;
import io.ckpt4j.container.zip.ZipEntry;
import io.ckpt4j.pickle.PickleOptions;
import io.ckpt4j.pickle.PickleReader;
import io.ckpt4j.value.TensorRef;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * Checkpoints with one field made wrong (tests/python/make_crafted.py): shapes, offsets and
 * strides past their storage, overflowing sizes, records too short or missing, truncated legacy
 * storages. Where torch 2.13 refuses a file, ckpt4j must too — with one CheckpointException of
 * one line and of the kind the case names, eager and lazy, never another exception or a crash.
 */
class CraftedFilesTest {
  @TestFactory
  Stream<DynamicTest> refusedLikeTorch() throws IOException {
    Path dir = TestData.dir("crafted");
    JsonNode index = new ObjectMapper().readTree(dir.resolve("index.json").toFile());
    List<DynamicTest> tests = new ArrayList<>();
    for (JsonNode c : index.get("cases")) {
      Path file = dir.resolve(c.get("file").asText());
      boolean torchRefuses = !c.get("torch_error").isNull();
      boolean refuse = torchRefuses || c.has("ckpt4j_stricter");
      tests.add(DynamicTest.dynamicTest(c.get("name").asText(), () -> {
        for (boolean mmap : new boolean[] {false, true}) {
          LoadOptions options = LoadOptions.defaults().mapLocation("cpu").mmap(mmap);
          if (refuse) {
            Kind kind = Kind.valueOf(c.get("ckpt4j_kind").asText());
            CheckpointException e = Refusals.assertRefused(kind, () -> loadAll(file, options),
                c.get("what").asText());
            if (c.has("ckpt4j_says")) {
              assertTrue(e.getMessage().contains(c.get("ckpt4j_says").asText()), e.getMessage());
            }
            if (c.has("hint")) {
              assertTrue(e.getMessage().endsWith(c.get("hint").asText()), e.getMessage());
              loadAll(dir.resolve(c.get("hint_file").asText()), options); // the fix, applied
            }
          } else {
            loadAll(file, options);
          }
        }
      }));
    }
    assertTrue(tests.size() >= 16);
    return tests.stream();
  }

  /** A checkpoint's data.pkl read alone names its storages: the refusal says what reads them. */
  @Test
  void aCheckpointsPickleAloneIsSentToTheReader() throws Exception {
    Path file = TestData.dir("corpus").resolve("state_dict_small.pt");
    ByteBuffer pickle;
    try (ZipArchive zip = ZipArchive.open(file)) {
      ZipEntry entry = zip.entries().stream().filter(e -> e.name().endsWith("/data.pkl"))
          .findFirst().orElseThrow();
      pickle = zip.read(entry, Long.MAX_VALUE);
    }
    PickleOptions options = PickleOptions.builder()
        .resolver(CheckpointGlobals.resolver(LoadOptions.defaults())).build();
    CheckpointException e =
        Refusals.assertRefused(Kind.WRONG_LOADER, () -> PickleReader.load(pickle, options));
    assertTrue(e.getMessage().endsWith("load the file through the checkpoint reader"),
        e.getMessage());
    loadAll(file, LoadOptions.defaults()); // the hint, applied
  }

  /**
   * A file needing several classes torch's weights_only refuses: the one refusal names every
   * global torch's own {@code get_unsafe_globals_in_checkpoint} reports, and its CLI hint, applied
   * as it is written, makes the file load; when one of them runs code, it suggests nothing.
   */
  @TestFactory
  Stream<DynamicTest> globalHintsNameWhatTheFileNeeds() throws IOException {
    Path dir = TestData.dir("crafted");
    JsonNode index = new ObjectMapper().readTree(dir.resolve("index.json").toFile());
    List<DynamicTest> tests = new ArrayList<>();
    for (JsonNode c : index.get("globals_cases")) {
      Path file = dir.resolve(c.get("file").asText());
      List<String> torchSays = new ArrayList<>();
      c.get("torch_unsafe_globals").forEach(g -> torchSays.add(g.asText()));
      tests.add(DynamicTest.dynamicTest(c.get("name").asText(), () -> {
        assertFalse(c.get("torch_error").isNull(), "torch refuses it with weights_only");
        CheckpointException e = Refusals.assertRefused(Kind.REFUSED_GLOBAL,
            () -> loadAll(file, LoadOptions.defaults()));
        String message = e.getMessage();
        if (c.get("runs_code").asBoolean()) {
          assertTrue(message.contains("runs code"), message);
          assertFalse(message.contains("--allow-global") || message.contains("allowGlobals"),
              message);
          return;
        }
        for (String global : torchSays) assertTrue(message.contains("'" + global + "'"), message);
        Matcher cli = Pattern.compile("\\(CLI: ([^)]*)\\)$").matcher(message);
        assertTrue(cli.find(), message);
        List<String> args = new ArrayList<>(List.of("inspect"));
        args.addAll(List.of(cli.group(1).split(" ")));
        args.add(file.toString());
        CliRun run = CliRun.of(args.toArray(String[]::new)); // the hint, applied
        assertEquals(0, run.exit(), run.stderr());
      }));
    }
    assertEquals(2, tests.size());
    return tests.stream();
  }

  /** Loads and builds every tensor (so lazy mode reaches its storages too). */
  static void loadAll(Path file, LoadOptions options) throws CheckpointException {
    try (LoadedCheckpoint ckpt = CheckpointLoader.load(file, options)) {
      for (TensorRef ref : ckpt.tensorRefs()) ckpt.tensor(ref);
    }
  }
}
