package io.ckpt4j.nativeio;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.Test;

/**
 * LibTorch in the JVM uses at least as many intra-op threads as Python's torch 2.13 on the same
 * machine (where the presets' cpuinfo counts one core, ckpt4j sets the processors the JVM may
 * use; Python's torch uses its count of cores), unless the process says otherwise.
 */
class IntraOpThreadsTest {
  private static final long TIMEOUT_SECONDS = 120;

  @Test
  void atLeastPythonsIntraOpThreads() throws Exception {
    assumeTrue(System.getenv("OMP_NUM_THREADS") == null && System.getenv("MKL_NUM_THREADS") == null
        && System.getProperty(NativeStorage.THREADS_PROPERTY) == null,
        "the process sets LibTorch's threads itself");
    String python = System.getProperty("ckpt4j.python");
    if (python == null) fail("set -Dckpt4j.python to the build's venv python (torch 2.13)");
    Process p = new ProcessBuilder(python, "-c", "import torch; print(torch.get_num_threads())")
        .redirectErrorStream(true).start();
    assertTrue(p.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS), "python timed out");
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
    int pythons = Integer.parseInt(out.substring(out.lastIndexOf('\n') + 1).trim());
    NativeStorage.ensureLoaded();
    int javas = torch.get_num_threads();
    assertTrue(javas >= pythons, "LibTorch in the JVM runs " + javas
        + " intra-op threads, Python's torch " + pythons);
  }
}
