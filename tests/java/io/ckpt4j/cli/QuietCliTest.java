package io.ckpt4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ckpt4j.ChildJvm;
import io.ckpt4j.TestData;
import io.ckpt4j.save.TorchSaver;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
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

  @Test
  void resnetForwardPrintsNothingOnStderr() throws Exception {
    // One small image: the convolutions oneDNN leaves alone, where LibTorch asks NNPACK whether
    // it can run and, on CPUs NNPACK does not recognize, logged a warning per convolution (19
    // here with -Dckpt4j.nnpack=true, which keeps NNPACK on).
    Path input = tmp.resolve("input.pt");
    try (Tensor x = torch.randn(1, 3, 32, 32)) {
      TorchSaver.save(input, x);
    }
    Path weights = TestData.dir("resnet").resolve("resnet18.pt");
    assertQuiet("run", "--arch", "resnet18", "--weights", weights.toString(), "--device", "cpu",
        "--input", input.toString(), "--output", tmp.resolve("logits.pt").toString());
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
