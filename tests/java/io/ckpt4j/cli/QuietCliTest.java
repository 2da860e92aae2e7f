package io.ckpt4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
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
 * A normal run of the CLI prints nothing on stderr: each command runs in its own JVM, as the
 * launcher starts it, so JavaCPP and LibTorch load fresh (where their notices would appear).
 */
class QuietCliTest {
  /** A cold JVM loads LibTorch in a few seconds; a run past this has hung. */
  private static final long TIMEOUT_SECONDS = 120;

  @TempDir Path tmp;

  @Test
  void inspectPrintsNothingOnStderr() throws Exception {
    Path file = TestData.dir("corpus").resolve("state_dict_small.pt");
    assertQuiet("inspect", file.toString());
    assertQuiet("inspect", "--json", file.toString());
  }

  @Test
  void convertPrintsNothingOnStderr() throws Exception {
    Path file = TestData.dir("corpus").resolve("state_dict_small.pt");
    assertQuiet("convert", file.toString(), tmp.resolve("out.pt").toString());
  }

  private void assertQuiet(String... args) throws Exception {
    Path out = tmp.resolve("stdout.txt");
    Path err = tmp.resolve("stderr.txt");
    Process p = new ProcessBuilder(ChildJvm.command(List.of(), Main.class, args))
        .redirectOutput(out.toFile()).redirectError(err.toFile()).start();
    assertTrue(p.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS), "ckpt4j " + List.of(args) + " hung");
    String stderr = Files.readString(err, StandardCharsets.UTF_8);
    assertEquals(0, p.exitValue(), "ckpt4j " + List.of(args) + ": " + stderr);
    assertEquals("", stderr, "ckpt4j " + List.of(args) + " wrote to stderr");
    assertTrue(Files.size(out) > 0, "ckpt4j " + List.of(args) + " printed nothing");
  }
}
