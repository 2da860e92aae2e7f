package io.ckpt4j;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/** Where the build put the Python-written test data (see pom.xml, generate-test-resources). */
public final class TestData {
  private static final Map<String, JsonNode> MANIFESTS = new ConcurrentHashMap<>();

  private TestData() {}

  /** {@code <name>/manifest.json}, the generator's account of what it wrote (read once). */
  public static JsonNode manifest(String name) {
    return MANIFESTS.computeIfAbsent(name, n -> {
      try {
        return new ObjectMapper().readTree(dir(n).resolve("manifest.json").toFile());
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    });
  }

  /** {@code target/testdata/<name>}, written by tests/python before the Java tests run. */
  public static Path dir(String name) {
    String root = System.getProperty("ckpt4j.testdata");
    if (root == null) {
      throw new IllegalStateException("system property ckpt4j.testdata is not set: run the tests"
          + " through Maven (mvn verify), which writes the Python fixtures first");
    }
    Path dir = Path.of(root, name);
    if (!Files.isDirectory(dir)) {
      throw new IllegalStateException(dir + " does not exist: the Python generator did not run");
    }
    return dir;
  }

  /** The test-data root itself: Java tests write what Python checks into folders below it. */
  public static Path root() {
    String root = System.getProperty("ckpt4j.testdata");
    if (root == null) {
      throw new IllegalStateException("system property ckpt4j.testdata is not set: run the tests"
          + " through Maven (mvn verify)");
    }
    return Path.of(root);
  }

  /** The committed fixtures folder (tests/fixtures). */
  public static Path fixtures() {
    return Path.of(System.getProperty("ckpt4j.fixtures", "tests/fixtures"));
  }
}
