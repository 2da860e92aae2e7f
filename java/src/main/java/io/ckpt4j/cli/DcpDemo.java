package io.ckpt4j.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.ckpt4j.CheckpointException;
import io.ckpt4j.CheckpointException.Kind;
import io.ckpt4j.layout.dcp.DcpLayout;
import io.ckpt4j.load.CheckpointLoader;
import io.ckpt4j.load.LoadOptions;
import io.ckpt4j.load.LoadedCheckpoint;
import io.ckpt4j.save.SaveOptions;
import io.ckpt4j.save.TorchSaver;
import io.ckpt4j.tensor.TensorBytes;
import io.ckpt4j.value.TensorRef;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * The demo's torch.distributed.checkpoint step: a directory two Gloo ranks wrote with
 * {@code dcp.save} (resources io/ckpt4j/demo/dcp: {@code .metadata}, {@code __0_0.distcp},
 * {@code __1_0.distcp}; row-sharded, column-sharded and replicated DTensors; {@code expected.json}
 * holds each tensor's SHA-256 from {@code dcp_to_torch_save}), opened lazily, every tensor
 * assembled from its ranks' chunks and checked against Python's, then written as one .pt.
 */
final class DcpDemo {
  static final String RESOURCES = "dcp/";
  static final String EXPECTED = "expected.json";
  static final List<String> FILES = List.of(DcpLayout.METADATA_FILE,
      DcpLayout.dataFileName(0, 0), DcpLayout.dataFileName(1, 0), EXPECTED);
  /**
   * The jar holds {@code .metadata} under this name: Maven leaves dot-files such as
   * {@code .metadata} out of a jar's resources.
   */
  static final String METADATA_RESOURCE = "metadata.pickle";

  private final Path dir;
  private final PrintWriter out;

  DcpDemo(Path dir, PrintWriter out) {
    this.dir = dir;
    this.out = out;
  }

  void extract(ShardedDemo.Extractor extractor) throws IOException {
    Files.createDirectories(dir);
    for (String name : FILES) {
      String resource = name.equals(DcpLayout.METADATA_FILE) ? METADATA_RESOURCE : name;
      extractor.extract(RESOURCES + resource, dir.resolve(name));
    }
  }

  void run() throws CheckpointException, IOException {
    out.printf("%n8. A torch.distributed.checkpoint directory two ranks wrote (dcp.save in a"
        + " Gloo group)%n");
    JsonNode expected = new ObjectMapper().readTree(dir.resolve(EXPECTED).toFile()).get("sha256");
    out.printf("   %s -> %s format (.metadata, %s, %s)%n", dir.getFileName(),
        CheckpointLoader.detect(dir).jsonName(), FILES.get(1), FILES.get(2));
    try (LoadedCheckpoint ckpt = CheckpointLoader.load(dir, LoadOptions.defaults().mmap(true))) {
      out.printf("   opened lazily (.metadata read; chunks read on first use): %d tensors%n",
          ckpt.tensorRefs().size());
      int same = check(ckpt.root(), "", ckpt, expected);
      out.printf("   each tensor assembled from both ranks' chunks; SHA-256 as"
          + " dcp_to_torch_save gives: %d of %d%n", same, expected.size());
      Path pt = dir.resolveSibling("dcp.pt");
      TorchSaver.save(pt, ckpt, SaveOptions.defaults().fsync(false));
      out.printf("   dcp_to_torch_save from Java: %s (ckpt4j convert %s %s)%n", pt.getFileName(),
          dir.getFileName(), pt.getFileName());
    }
  }

  /** Checks every tensor under {@code value} (dotted key {@code key}); how many matched. */
  private static int check(Object value, String key, LoadedCheckpoint ckpt, JsonNode expected)
      throws CheckpointException {
    if (value instanceof TensorRef ref) {
      String python = expected.path(key).asText();
      if (!python.equals(TensorBytes.sha256(ckpt.tensor(ref)))) {
        throw new CheckpointException(Kind.INVALID_VALUE, "demo: " + key + " differs from"
            + " Python's");
      }
      return 1;
    }
    int same = 0;
    if (value instanceof Map<?, ?> map) {
      for (Map.Entry<?, ?> e : map.entrySet()) {
        same += check(e.getValue(), key.isEmpty() ? e.getKey().toString()
            : key + "." + e.getKey(), ckpt, expected);
      }
    }
    return same;
  }
}
