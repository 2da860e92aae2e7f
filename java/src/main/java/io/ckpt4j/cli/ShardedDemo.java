package io.ckpt4j.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.ckpt4j.CheckpointException;
import io.ckpt4j.CheckpointException.Kind;
import io.ckpt4j.layout.hf.ShardFormat;
import io.ckpt4j.layout.hf.ShardIndex;
import io.ckpt4j.layout.hf.ShardPlan;
import io.ckpt4j.layout.hf.ShardSize;
import io.ckpt4j.load.CheckpointLoader;
import io.ckpt4j.load.LoadOptions;
import io.ckpt4j.load.LoadedCheckpoint;
import io.ckpt4j.save.SaveOptions;
import io.ckpt4j.save.ShardedSaver;
import io.ckpt4j.statedict.StateDict;
import io.ckpt4j.tensor.TensorBytes;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.bytedeco.pytorch.Tensor;

/**
 * The demo's Hugging Face step: a model directory Python wrote as {@code save_pretrained} does
 * (resources io/ckpt4j/demo/sharded: safetensors shards and {@code model.safetensors.index.json};
 * {@code expected.json} holds each tensor's SHA-256 from Python's loading loop), opened lazily
 * through the directory, every tensor checked against Python's, then re-sharded by Java.
 */
final class ShardedDemo {
  static final String RESOURCES = "sharded/";
  static final String EXPECTED = "expected.json";
  private static final String RESHARD_SIZE = "20KB";

  private final Path dir;
  private final PrintWriter out;

  /** {@code dir}: where the checkpoint goes (see {@link #extract}). */
  ShardedDemo(Path dir, PrintWriter out) {
    this.dir = dir;
    this.out = out;
  }

  /** Copies the checkpoint out of the jar: the index names its shards. */
  void extract(Extractor extractor) throws IOException, CheckpointException {
    Files.createDirectories(dir);
    String index = ShardFormat.SAFETENSORS.indexName();
    extractor.extract(RESOURCES + EXPECTED, dir.resolve(EXPECTED));
    extractor.extract(RESOURCES + index, dir.resolve(index));
    for (String shard : ShardIndex.read(dir.resolve(index)).shardFiles()) {
      extractor.extract(RESOURCES + shard, dir.resolve(shard));
    }
  }

  /** Copies resource {@code name} to {@code target}. */
  @FunctionalInterface
  interface Extractor {
    void extract(String name, Path target) throws IOException;
  }

  void run() throws CheckpointException, IOException {
    out.printf("%n7. A Hugging Face model directory: save_pretrained's shards and"
        + " model.safetensors.index.json%n");
    JsonNode expected = new ObjectMapper().readTree(dir.resolve(EXPECTED).toFile());
    out.printf("   %s -> %s format (%d shards)%n", dir.getFileName(),
        CheckpointLoader.detect(dir).jsonName(), expected.get("shards").size());
    try (LoadedCheckpoint ckpt = CheckpointLoader.load(dir, LoadOptions.defaults().mmap(true));
        StateDict sd = StateDict.from(ckpt)) {
      out.printf("   opened lazily (index + shard headers read, tensors mapped on first use):"
          + " %d tensors%n", sd.size());
      int same = 0;
      for (Map.Entry<String, Tensor> e : sd.asMap().entrySet()) {
        String python = expected.get("sha256").path(e.getKey()).asText();
        if (!python.equals(TensorBytes.sha256(e.getValue()))) {
          throw new CheckpointException(Kind.INVALID_VALUE,
              "demo: " + e.getKey() + " differs from Python's");
        }
        same++;
      }
      out.printf("   every tensor's SHA-256 is what Python's loading loop gives: %d of %d%n",
          same, expected.get("sha256").size());
      Path resharded = dir.resolveSibling(dir.getFileName() + "-torch");
      ShardPlan plan = ShardedSaver.save(resharded, sd.asMap(), null, ShardFormat.TORCH,
          ShardSize.parse(RESHARD_SIZE), SaveOptions.defaults().fsync(false));
      out.printf("   save_pretrained(max_shard_size=\"%s\", safe_serialization=False) from Java:"
          + " %s + %d shards (%s ...)%n", RESHARD_SIZE, plan.indexName(), plan.shards().size(),
          plan.shards().get(0).fileName());
    }
  }
}
