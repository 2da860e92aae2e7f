package io.ckpt4j.save;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Runs tests/python/check_saved.py once over the cases a test collected: real torch 2.13 loads
 * each file Java wrote and compares it with what it must equal. One Python process per test class
 * keeps the suite fast (torch takes a second or two to import).
 */
final class PythonCheck {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final long TIMEOUT_SECONDS = 300;

  private final List<Map<String, Object>> cases = new ArrayList<>();

  /** A case: {@code id}, {@code kind} and the fields check_saved.py documents. */
  Map<String, Object> add(String id, String kind, Path saved) {
    Map<String, Object> c = new LinkedHashMap<>();
    c.put("id", id);
    c.put("kind", kind);
    c.put("saved", saved.toAbsolutePath().toString());
    cases.add(c);
    return c;
  }

  boolean isEmpty() {
    return cases.isEmpty();
  }

  /** Runs the check; the verdict per case id ("ok" or what differed). */
  Map<String, String> run(Path dir) throws IOException, InterruptedException {
    Path manifest = dir.resolve("manifest.json");
    JSON.writerWithDefaultPrettyPrinter().writeValue(manifest.toFile(), Map.of("cases", cases));
    String python = System.getProperty("ckpt4j.python", "python3");
    Path script = Path.of(System.getProperty("ckpt4j.pythonTests", "tests/python"), "check_saved.py");
    Path stdout = dir.resolve("check.out");
    Path stderr = dir.resolve("check.err");
    Process p = new ProcessBuilder(python, script.toString(), manifest.toString())
        .redirectOutput(stdout.toFile()).redirectError(stderr.toFile()).start();
    if (!p.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new AssertionError("check_saved.py did not finish in " + TIMEOUT_SECONDS + " s");
    }
    String out = Files.readString(stdout, StandardCharsets.UTF_8);
    if (p.exitValue() != 0) {
      throw new AssertionError("check_saved.py failed (exit " + p.exitValue() + "): "
          + Files.readString(stderr, StandardCharsets.UTF_8));
    }
    JsonNode results = JSON.readTree(out).get("results");
    Map<String, String> verdicts = new LinkedHashMap<>();
    for (Map.Entry<String, JsonNode> e : results.properties()) {
      verdicts.put(e.getKey(), e.getValue().asText());
    }
    return verdicts;
  }
}
