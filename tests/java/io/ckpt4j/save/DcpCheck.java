package io.ckpt4j.save;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * tests/python/make_dcp.py check: Python's {@code dcp.load} into a pre-allocated state_dict and
 * {@code dcp_to_torch_save} of DCP directories Java wrote, each compared bit-exact with the
 * source .pt it was written from.
 */
public final class DcpCheck {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final long CHECK_TIMEOUT_S = 300;

  private DcpCheck() {}

  /** Runs make_dcp.py check over the cases: the verdict per case id. */
  public static Map<String, String> run(Path dir, List<Map<String, Object>> cases) throws Exception {
    Files.createDirectories(dir);
    JSON.writeValue(dir.resolve("manifest.json").toFile(), Map.of("cases", cases));
    String python = System.getProperty("ckpt4j.python", "python3");
    Path script = Path.of(System.getProperty("ckpt4j.pythonTests", "tests/python"), "make_dcp.py");
    Path out = dir.resolve("check.out");
    Path err = dir.resolve("check.err");
    Process p = new ProcessBuilder(python, script.toString(), "check", dir.toString())
        .redirectOutput(out.toFile()).redirectError(err.toFile()).start();
    if (!p.waitFor(CHECK_TIMEOUT_S, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new AssertionError("make_dcp.py check did not finish in " + CHECK_TIMEOUT_S + " s");
    }
    JsonNode results = JSON.readTree(Files.readString(out, StandardCharsets.UTF_8));
    if (results == null) {
      throw new AssertionError("make_dcp.py check: " + Files.readString(err));
    }
    Map<String, String> verdicts = new LinkedHashMap<>();
    results.get("results").properties().forEach(e -> verdicts.put(e.getKey(),
        e.getValue().asText()));
    return verdicts;
  }

}
