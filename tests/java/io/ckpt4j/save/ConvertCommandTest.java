package io.ckpt4j.save;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ckpt4j.CliRun;
import io.ckpt4j.TestData;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code ckpt4j convert}: files of the reader's corpus converted by the CLI load in torch 2.13
 * (tests/python/check_saved.py) as the original does — after the same key renames done by
 * PyTorch's own {@code consume_prefix_in_state_dict_if_present}, and with the locations
 * {@code --map-location} asked for (after {@code --map-location cpu}, with a plain
 * {@code torch.load(OUT)}); bad input exits 1 with one line and writes nothing.
 */
class ConvertCommandTest {
  @TempDir Path out;

  private record Conversion(String id, String input, List<String> options,
      Map<String, Object> check) {}

  private static Map<String, Object> map(Object... kv) {
    Map<String, Object> m = new LinkedHashMap<>();
    for (int i = 0; i < kv.length; i += 2) m.put((String) kv[i], kv[i + 1]);
    return m;
  }

  @TestFactory
  Stream<DynamicTest> convertedFilesLoadInPython() throws Exception {
    Path corpus = TestData.dir("corpus");
    List<Conversion> conversions = List.of(
        new Conversion("strip module. (DataParallel)", "state_dict_data_parallel.pt",
            List.of("--strip-prefix", "module."),
            map("transform", map("strip_prefix", "module."))),
        new Conversion("strip _orig_mod. (torch.compile)", "state_dict_compiled.pt",
            List.of("--strip-prefix", "_orig_mod."),
            map("transform", map("strip_prefix", "_orig_mod."))),
        new Conversion("add module. to a training checkpoint's model", "training_checkpoint.pt",
            List.of("--add-prefix", "module."),
            map("transform", map("add_prefix", "module.", "state_dict", List.of("model")))),
        new Conversion("strip then add", "state_dict_data_parallel.pt",
            List.of("--strip-prefix", "module.", "--add-prefix", "_orig_mod."),
            map("transform", map("strip_prefix", "module.", "add_prefix", "_orig_mod."))),
        new Conversion("cuda:1 to cpu", "located_cuda1.pt", List.of("--map-location", "cpu"),
            map("relocated", "cpu")),
        new Conversion("a remap of three devices", "located_mixed.pt",
            List.of("--map-location", "cuda:3=cuda:0,cuda:0=cpu"),
            map("relocated", map("cuda:3", "cuda:0", "cuda:0", "cpu"))),
        new Conversion("saved locations kept", "located_mixed.pt", List.of(), map()),
        new Conversion("legacy to zip", "legacy_state_dict.pt", List.of(), map()),
        new Conversion("legacy cuda:1 to cpu", "legacy_located_cuda1.pt",
            List.of("--map-location", "cpu"), map("relocated", "cpu")),
        new Conversion("safetensors to zip", "safetensors_mixed.safetensors", List.of(),
            map("original_loader", "safetensors")),
        new Conversion("an allowed class", "training_checkpoint_namespace.pt",
            List.of("--allow-global", "argparse.Namespace"),
            map("original_weights_only", false, "safe_globals", List.of("argparse.Namespace"))),
        new Conversion("protocol 4 to 2", "protocol_4.pt", List.of(),
            map("original_weights_only", false)));
    PythonCheck python = new PythonCheck();
    Map<String, Throwable> javaFailures = new LinkedHashMap<>();
    int n = 0;
    for (Conversion c : conversions) {
      Path dir = Files.createDirectories(out.resolve("c" + n++));
      Path target = dir.resolve(c.input().replace(".safetensors", ".pt"));
      List<String> args = new ArrayList<>(List.of("convert", corpus.resolve(c.input()).toString(),
          target.toString()));
      args.addAll(c.options());
      try {
        CliRun run = CliRun.of(args.toArray(String[]::new));
        assertEquals(0, run.exit(), "exit status; stderr: " + run.stderr());
        Map<String, Object> check = python.add(c.id(), "roundtrip", target);
        check.put("original", corpus.resolve(c.input()).toAbsolutePath().toString());
        check.putAll(c.check());
      } catch (Exception | AssertionError e) {
        javaFailures.put(c.id(), e);
      }
    }
    Map<String, String> verdicts = python.run(out);
    return conversions.stream().map(c -> DynamicTest.dynamicTest(c.id(), () -> assertAll(
        () -> {
          if (javaFailures.containsKey(c.id())) throw javaFailures.get(c.id());
        },
        () -> assertEquals("ok", verdicts.get(c.id()), "torch.load of the converted file"))));
  }

  @Test
  void badInputExitsWithOneLineAndWritesNothing() throws Exception {
    Path corpus = TestData.dir("corpus");
    Path target = out.resolve("out.pt");
    String[][] cases = {
        {"convert", out.resolve("missing.pt").toString(), target.toString()},
        {"convert", corpus.resolve("nested_values.pt").toString(), target.toString(),
            "--strip-prefix", "module."},
        {"convert", corpus.resolve("training_checkpoint_namespace.pt").toString(),
            target.toString()},
        {"convert", corpus.resolve("state_dict_small.pt").toString(), target.toString(),
            "--map-location", "cuda:1=,x"},
    };
    for (String[] args : cases) {
      CliRun run = CliRun.of(args);
      String what = String.join(" ", args);
      assertEquals(1, run.exit(), what + "; stderr: " + run.stderr());
      // One line from ckpt4j (JavaCPP may warn once about its own versions when it loads).
      List<String> lines = run.errorLines();
      assertEquals(1, lines.size(), what + ": " + run.stderr());
      assertTrue(lines.get(0).startsWith("ckpt4j: error: "), what + ": " + lines.get(0));
      assertFalse(Files.exists(target), what + " wrote " + target);
    }
  }

  @Test
  void theRefusedGlobalsCliHintConvertsTheFile() throws Exception {
    Path input = TestData.dir("corpus").resolve("training_checkpoint_namespace.pt");
    Path target = out.resolve("allowed.pt");
    CliRun refused = CliRun.of("convert", input.toString(), target.toString());
    assertEquals(1, refused.exit(), refused.stderr());
    String hint = "(CLI: --allow-global argparse.Namespace)";
    assertTrue(refused.stderr().strip().endsWith(hint), refused.stderr());
    // The hint, applied as written.
    CliRun allowed = CliRun.of("convert", input.toString(), target.toString(), "--allow-global",
        "argparse.Namespace");
    assertEquals(0, allowed.exit(), allowed.stderr());
    assertTrue(Files.isRegularFile(target));
  }

  @Test
  void aRenameThatWouldMergeKeysIsRefused() throws Exception {
    // A state dict holding both "module.w" and "w": PyTorch's consume_prefix would silently drop
    // a tensor; convert refuses.
    Trees trees = new Trees(5);
    io.ckpt4j.value.PyOrderedDict stateDict = new io.ckpt4j.value.PyOrderedDict();
    stateDict.put("module.w", trees.random(io.ckpt4j.value.DType.FLOAT32, 2));
    stateDict.put("w", trees.random(io.ckpt4j.value.DType.FLOAT32, 2));
    Path both = out.resolve("both.pt");
    TorchSaver.save(both, stateDict, SaveOptions.defaults());
    Path target = out.resolve("merged.pt");
    CliRun run = CliRun.of("convert", both.toString(), target.toString(), "--strip-prefix",
        "module.");
    assertEquals(1, run.exit(), run.stderr());
    assertTrue(run.stderr().contains("into 'w', which the state_dict already has"), run.stderr());
    assertFalse(Files.exists(target));
  }
}
