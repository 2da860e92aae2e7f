package io.ckpt4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ckpt4j.ChildJvm;
import io.ckpt4j.TestData;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Commands that never touch tensor data start without LibTorch: each runs in its own JVM with
 * class loading logged, and the log must not show JavaCPP's Loader (which every LibTorch class
 * initializer calls first) — while {@code inspect --json}, which hashes tensors, does load it.
 */
class LibTorchFreeCliTest {
  private static final long TIMEOUT_SECONDS = 120;
  /** The class every JavaCPP binding's static initializer runs to load its native libraries. */
  private static final String NATIVE_LOADER = "org.bytedeco.javacpp.Loader ";

  @TempDir Path tmp;

  @Test
  void inspectReadsStructureWithoutLibTorch() throws Exception {
    String zip = TestData.dir("corpus").resolve("state_dict_small.pt").toString();
    String legacy = TestData.dir("corpus").resolve("legacy_state_dict.pt").toString();
    String shards = TestData.dir("shards").resolve("safetensors").toString();
    String pt2 = TestData.dir("pt2").resolve("program.pt2").toString();
    String dcp = TestData.dir("dcp").resolve("ranks2").toString();
    String aoti = TestData.dir("aoti").resolve("dynamic.pt2").toString();
    for (String file : List.of(zip, legacy, shards, pt2, dcp, aoti)) {
      String classes = classesLoaded("inspect", file);
      assertFalse(classes.contains(NATIVE_LOADER), "inspect " + file + " loaded LibTorch");
    }
  }

  @Test
  void scanReadsNoTensorAndNoLibTorch() throws Exception {
    // Safe files only: the helper expects exit 0.
    String classes = classesLoaded("scan",
        TestData.dir("scan").resolve("clean_state_dict.pt").toString(),
        TestData.dir("corpus").resolve("legacy_state_dict.pt").toString(),
        TestData.dir("shards").resolve("safetensors").toString());
    assertFalse(classes.contains(NATIVE_LOADER), "scan loaded LibTorch");
  }

  @Test
  void helpDoesNotLoadLibTorch() throws Exception {
    for (String command : List.of("--help", "convert", "run", "inspect")) {
      String classes = command.startsWith("-")
          ? classesLoaded(command) : classesLoaded(command, "--help");
      assertFalse(classes.contains(NATIVE_LOADER), command + " --help loaded LibTorch");
    }
  }

  @Test
  void inspectJsonHashesTensorsThroughLibTorch() throws Exception {
    // The control: the check above would pass vacuously if the log never named the Loader.
    String zip = TestData.dir("corpus").resolve("state_dict_small.pt").toString();
    assertTrue(classesLoaded("inspect", "--json", zip).contains(NATIVE_LOADER));
  }

  /** Runs {@code ckpt4j args} in a fresh JVM and returns its class-loading log. */
  private String classesLoaded(String... args) throws Exception {
    Path log = tmp.resolve("classes.log");
    Files.deleteIfExists(log);
    Process p = new ProcessBuilder(ChildJvm.command(
        List.of("-Xlog:class+load=info:file=" + log), Main.class, args))
        .redirectOutput(tmp.resolve("out.txt").toFile())
        .redirectError(tmp.resolve("err.txt").toFile()).start();
    assertTrue(p.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS), "ckpt4j " + List.of(args) + " hung");
    assertEquals(0, p.exitValue(), "ckpt4j " + List.of(args) + ": "
        + Files.readString(tmp.resolve("err.txt"), StandardCharsets.UTF_8));
    return Files.readString(log, StandardCharsets.UTF_8);
  }
}
