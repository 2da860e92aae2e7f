package io.ckpt4j;

import java.nio.file.Files;
import java.nio.file.Path;

/** Where the build put the Python-written test data (see pom.xml, generate-test-resources). */
public final class TestData {
  private TestData() {}

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
