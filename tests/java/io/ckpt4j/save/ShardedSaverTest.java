package io.ckpt4j.save;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.ckpt4j.CheckpointException;
import io.ckpt4j.CliRun;
import io.ckpt4j.TestData;
import io.ckpt4j.layout.hf.ShardFormat;
import io.ckpt4j.layout.hf.ShardPlan;
import io.ckpt4j.layout.hf.ShardSize;
import io.ckpt4j.load.CheckpointLoader;
import io.ckpt4j.load.LoadOptions;
import io.ckpt4j.load.LoadedCheckpoint;
import io.ckpt4j.statedict.StateDict;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link ShardedSaver}: state_dicts Python saved with torch.save (tests/python/make_shards.py
 * sources), and a sharded checkpoint Python wrote, sharded by Java — then checked by
 * {@code make_shards.py check} with real torch 2.13 + safetensors: the files, names, key order
 * and index text save_pretrained would have written for the same state_dict and
 * {@code max_shard_size}, and every tensor bit-exact (SHA-256) after {@code load_file} /
 * {@code torch.load(weights_only=True)} and after the loading loop.
 */
class ShardedSaverTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final long TIMEOUT_SECONDS = 300;

  @TempDir Path scratch;

  private final List<Map<String, Object>> cases = new ArrayList<>();

  @Test
  void javaShardsAreWhatSavePretrainedWrites() throws Exception {
    Path out = TestData.root().resolve("shards-java");
    deleteTree(out);
    Files.createDirectories(out);
    save(out, "plain_safetensors", "plain", ShardFormat.SAFETENSORS, "40KB");
    save(out, "plain_safetensors_bits", "plain", ShardFormat.SAFETENSORS, "300Kb");
    save(out, "plain_safetensors_single", "plain", ShardFormat.SAFETENSORS, "5GB");
    save(out, "tied_torch", "tied", ShardFormat.TORCH, "20KiB");
    save(out, "plain_torch_bytes", "plain", ShardFormat.TORCH, 10_000L);
    // a second save into a directory replaces the first one's shards, leaving none behind
    save(out, "resaved_fewer_shards", "plain", ShardFormat.SAFETENSORS, "10KB");
    save(out, "resaved_fewer_shards", "plain", ShardFormat.SAFETENSORS, "40KB");
    save(out, "resaved_single", "tied", ShardFormat.TORCH, "10KB");
    save(out, "resaved_single", "tied", ShardFormat.TORCH, "5GB");
    // Python's sharded checkpoint, opened lazily through its directory, re-sharded as torch files
    save(out, "from_python_shards", "safetensors", ShardFormat.TORCH, "25KB");
    // the CLI: convert IN OUTDIR --max-shard-size SIZE [--shard-format F]
    convert(out, "cli_safetensors", "plain", ShardFormat.SAFETENSORS, "40KB");
    convert(out, "cli_torch_from_python_shards", "safetensors", ShardFormat.TORCH, "25KB");
    JSON.writerWithDefaultPrettyPrinter().writeValue(out.resolve("manifest.json").toFile(),
        Map.of("cases", cases));
    String verdict = pythonCheck(out);
    assertTrue(verdict.contains("shards check: " + cases.size() + " passed, 0 failed"), verdict);
  }

  /** Shards source {@code source} (a sources/NAME.pt, or a case directory) into out/NAME. */
  private void save(Path out, String name, String source, ShardFormat format, Object maxSize)
      throws Exception {
    Path file = sourceFile(source);
    long bytes = maxSize instanceof String s ? ShardSize.parse(s) : (Long) maxSize;
    try (LoadedCheckpoint ckpt = CheckpointLoader.load(file,
        LoadOptions.defaults().mapLocation("cpu").mmap(true))) {
      Map<String, ?> stateDict = stateDict(ckpt);
      ShardPlan plan = ShardedSaver.save(out.resolve(name), stateDict, ckpt, format, bytes,
          SaveOptions.defaults().fsync(false));
      assertEquals(stateDict.size(), plan.weightMap().size());
    }
    addCase(name, source, format, maxSize, bytes);
  }

  /** {@link #save} through {@code ckpt4j convert SOURCE OUT/NAME --max-shard-size SIZE}. */
  private void convert(Path out, String name, String source, ShardFormat format, String maxSize)
      throws Exception {
    CliRun run = CliRun.of("convert", sourceFile(source).toString(), out.resolve(name).toString(),
        "--max-shard-size", maxSize, "--shard-format",
        format == ShardFormat.SAFETENSORS ? "safetensors" : "torch");
    assertEquals(0, run.exit(), run.stderr());
    addCase(name, source, format, maxSize, ShardSize.parse(maxSize));
  }

  private static Path sourceFile(String source) throws IOException {
    Path shards = TestData.dir("shards");
    JsonNode sources = TestData.manifest("shards").get("sources");
    return sources.has(source) ? shards.resolve(sources.get(source).asText())
        : shards.resolve(source);
  }

  private void addCase(String name, String source, ShardFormat format, Object maxSize, long bytes)
      throws IOException {
    JsonNode sources = TestData.manifest("shards").get("sources");
    cases.removeIf(c -> c.get("name").equals(name));
    Map<String, Object> c = new LinkedHashMap<>();
    c.put("name", name);
    c.put("dir", name);
    c.put("source", sources.has(source) ? sources.get(source).asText()
        : source + "/" + ShardFormat.SAFETENSORS.indexName());
    c.put("format", format == ShardFormat.SAFETENSORS ? "safetensors" : "torch");
    c.put("max_shard_size", maxSize);
    c.put("max_shard_bytes", bytes);
    cases.add(c);
  }

  @SuppressWarnings("unchecked")
  private static Map<String, ?> stateDict(LoadedCheckpoint ckpt) {
    return (Map<String, ?>) ckpt.root();
  }

  private static String pythonCheck(Path out) throws IOException, InterruptedException {
    String python = System.getProperty("ckpt4j.python", "python3");
    Path script = Path.of(System.getProperty("ckpt4j.pythonTests", "tests/python"),
        "make_shards.py");
    Path log = out.resolve("check.out");
    Process p = new ProcessBuilder(python, script.toString(), "check",
        TestData.dir("shards").toString(), out.toString())
        .redirectErrorStream(true).redirectOutput(log.toFile()).start();
    if (!p.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new AssertionError("make_shards.py check did not finish in " + TIMEOUT_SECONDS + " s");
    }
    String text = Files.readString(log, StandardCharsets.UTF_8);
    assertEquals(0, p.exitValue(), text);
    return text;
  }

  @Test
  void tiedWeightsAreRefusedInSafetensorsShardsAsSaveFileRefusesThem() throws Exception {
    Path tied = TestData.dir("shards").resolve(
        TestData.manifest("shards").get("sources").get("tied").asText());
    try (LoadedCheckpoint ckpt = CheckpointLoader.load(tied, LoadOptions.defaults().mmap(true))) {
      CheckpointException e = assertThrows(CheckpointException.class, () -> ShardedSaver.save(
          scratch.resolve("tied"), stateDict(ckpt), ckpt, ShardFormat.SAFETENSORS, 1L << 20,
          SaveOptions.defaults()));
      assertOneLine(e, "model.embed_tokens.weight", "lm_head.weight");
      assertFalse(Files.exists(scratch.resolve("tied").resolve("model.safetensors")));
    }
  }

  @Test
  void whatIsNotAShardableStateDictIsRefusedInOneLine() throws Exception {
    Path dir = scratch.resolve("bad");
    try (StateDict empty = StateDict.empty()) {
      assertOneLine(assertThrows(CheckpointException.class, () ->
          ShardedSaver.save(dir, empty.asMap(), ShardFormat.SAFETENSORS, "5GB")), "empty");
    }
    Map<String, Object> notTensors = new LinkedHashMap<>();
    notTensors.put("step", 3L);
    assertOneLine(assertThrows(CheckpointException.class, () -> ShardedSaver.save(dir, notTensors,
        null, ShardFormat.TORCH, 100L, SaveOptions.defaults())), "step");
    try (Tensor c = torch.ones(2).to(torch.ScalarType.ComplexDouble)) {
      assertOneLine(assertThrows(CheckpointException.class, () -> ShardedSaver.save(dir,
          Map.of("c", c), ShardFormat.SAFETENSORS, "5GB")), "complex128");
      assertOneLine(assertThrows(CheckpointException.class, () -> ShardedSaver.save(dir,
          Map.of("c", c), ShardFormat.SAFETENSORS, "5 gigabytes")), "5 gigabytes");
    }
    try (Stream<Path> left = Files.list(scratch)) {
      assertTrue(left.noneMatch(p -> p.getFileName().toString().endsWith(".safetensors")));
    }
  }

  private static void assertOneLine(CheckpointException e, String... mentions) {
    String message = e.getMessage();
    assertFalse(message.contains("\n"), message);
    for (String m : mentions) assertTrue(message.contains(m), "'" + m + "' not in: " + message);
  }

  private static void deleteTree(Path dir) throws IOException {
    if (!Files.exists(dir)) return;
    try (Stream<Path> paths = Files.walk(dir)) {
      for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) Files.delete(p);
    }
  }
}
