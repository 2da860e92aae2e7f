package io.ckpt4j.soak;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ckpt4j.ChildJvm;
import io.ckpt4j.TestData;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The quick concurrency soak: {@link LoadSoak} in its own JVM (fixed heap, so that RSS means
 * native memory plus a constant), {@value #THREADS} threads x {@value #ROUNDS} loads of a
 * resnet152-shaped checkpoint (932 tensors), eager and mmap; no exception, every sum right, RSS
 * and physicalBytes flat within 5% after warm-up. The long mode is tests/soak/soak.sh (16 x 1000
 * of the 241 MB resnet152 bench file).
 */
class LoadSoakTest {
  private static final int THREADS = 4;
  private static final int ROUNDS = 30;
  private static final long TIMEOUT_MINUTES = 10;

  @Test
  void concurrentLoadsKeepMemoryFlat() throws Exception {
    Path file = TestData.dir("resnet").resolve("resnet152_w16.pt");
    List<String> command = ChildJvm.command(List.of("-Xms256m", "-Xmx256m",
        "-XX:+AlwaysPreTouch", "-Dorg.bytedeco.javacpp.logger=slf4j",
        "-Dorg.slf4j.simpleLogger.log.org.bytedeco.javacpp.Loader=error"), LoadSoak.class,
        file.toString(), String.valueOf(THREADS), String.valueOf(ROUNDS));
    Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
    String out;
    try {
      assertTrue(p.waitFor(TIMEOUT_MINUTES, TimeUnit.MINUTES), "the soak took over "
          + TIMEOUT_MINUTES + " min");
    } finally {
      out = read(p);
    }
    System.out.print(out);
    assertEquals(0, p.exitValue(), out);
    assertTrue(out.contains((THREADS * ROUNDS) + " loads in"), out);
    assertTrue(out.contains(", 0 failures"), out);
  }

  private static String read(Process p) throws IOException {
    if (p.isAlive()) p.destroyForcibly();
    return new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
  }
}
