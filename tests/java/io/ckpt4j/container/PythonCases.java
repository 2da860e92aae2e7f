package io.ckpt4j.container;

import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The container cases that tests/python/zip_cases.py writes at build time, and the way back into
 * Python for checking what Java writes.
 *
 * <p>System properties: {@code ckpt4j.zipCases} (the directory zip_cases.py wrote, required),
 * {@code ckpt4j.fixtures} (default {@code tests/fixtures}), {@code ckpt4j.python} (the build's
 * Python, for the interop checks).
 */
public final class PythonCases {
  public static final String CASES_PROPERTY = "ckpt4j.zipCases";
  public static final String FIXTURES_PROPERTY = "ckpt4j.fixtures";
  public static final String PYTHON_PROPERTY = "ckpt4j.python";
  private static final String SCRIPT = "tests/python/zip_cases.py";
  private static final long CHECK_TIMEOUT_MINUTES = 10;

  private static JsonNode manifest;

  private PythonCases() {}

  /** The directory of generated cases. */
  public static Path dir() {
    String dir = System.getProperty(CASES_PROPERTY);
    if (dir == null) {
      fail("set -D" + CASES_PROPERTY + "=DIR after running: python3 " + SCRIPT + " DIR");
    }
    return Path.of(dir);
  }

  /** The committed fixtures directory. */
  public static Path fixtures() {
    return Path.of(System.getProperty(FIXTURES_PROPERTY, "tests/fixtures"));
  }

  /** DIR/manifest.json, parsed once. */
  public static synchronized JsonNode manifest() {
    if (manifest == null) {
      try {
        manifest = new ObjectMapper().readTree(dir().resolve("manifest.json").toFile());
      } catch (IOException e) {
        throw new AssertionError("cannot read the manifest of " + SCRIPT + " in " + dir(), e);
      }
    }
    return manifest;
  }

  /** The items of a manifest array, as a list for parameterized tests. */
  public static List<JsonNode> list(String key) {
    List<JsonNode> items = new ArrayList<>();
    manifest().get(key).forEach(items::add);
    return items;
  }

  /** A file named by the manifest: generated cases, or a fixture for the "fixtures" sections. */
  public static Path generated(String name) {
    return dir().resolve(name);
  }

  public static Path fixture(String name) {
    return fixtures().resolve(name);
  }

  /**
   * Runs {@code zip_cases.py --check dir} and returns its output; fails the test if Python
   * reports a failure.
   */
  public static String checkWithPython(Path dir) throws IOException, InterruptedException {
    String python = System.getProperty(PYTHON_PROPERTY);
    if (python == null) {
      fail("set -D" + PYTHON_PROPERTY + "=PATH to the build's Python (torch 2.13, safetensors)");
    }
    Path script = Path.of(System.getProperty("ckpt4j.pythonTests", "tests/python"))
        .resolve("zip_cases.py");
    Process process =
        new ProcessBuilder(python, script.toString(), "--check", dir.toString())
            .redirectErrorStream(true)
            .start();
    byte[] output = process.getInputStream().readAllBytes();
    if (!process.waitFor(CHECK_TIMEOUT_MINUTES, TimeUnit.MINUTES)) {
      process.destroyForcibly();
      fail("zip_cases.py --check timed out");
    }
    String text = new String(output, StandardCharsets.UTF_8);
    if (process.exitValue() != 0) {
      fail("Python rejects what Java wrote:\n" + text);
    }
    return text;
  }

  /** Writes {@code json} to {@code file}. */
  public static void writeJson(Path file, Object json) throws IOException {
    Files.writeString(file, new ObjectMapper().writerWithDefaultPrettyPrinter().writeValueAsString(json));
  }
}
