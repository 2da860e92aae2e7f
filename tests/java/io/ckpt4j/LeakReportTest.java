package io.ckpt4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * A {@link io.ckpt4j.load.LoadedCheckpoint} that is never closed is reported once through SLF4J
 * when it becomes unreachable (slf4j-simple writes the warning on the child JVM's stderr); in
 * debug mode ({@code -Dckpt4j.leakDetection=true}) the report names where it was opened. A
 * closed checkpoint, even closed twice, is never reported, and the checkpoint's own tensor store
 * is not reported a second time.
 */
class LeakReportTest {
  private static final String REPORTED = "became unreachable without close()";
  private static final long REPORT_TIMEOUT_SECONDS = 60;

  @Test
  void aLeakInDebugModeNamesWhereItWasOpened() throws Exception {
    List<String> err = runLeakingLoader(true);
    String report = String.join("\n", err);
    assertEquals(1, count(err, REPORTED), report);
    assertTrue(report.contains("LoadedCheckpoint (the checkpoint " + leaked() + ")"), report);
    assertTrue(report.contains("opened here"), report);
    assertTrue(report.contains("at io.ckpt4j.LeakingLoader.leak(LeakingLoader.java"), report);
    assertFalse(report.contains(closed().toString()), "a closed checkpoint was reported: " + report);
  }

  @Test
  void withoutDebugModeTheReportSaysHowToSeeTheOpeningSite() throws Exception {
    List<String> err = runLeakingLoader(false);
    String report = String.join("\n", err);
    assertEquals(1, count(err, REPORTED), report);
    assertTrue(report.contains("run with -Dckpt4j.leakDetection=true"), report);
    assertFalse(report.contains("LeakingLoader.leak"), "no stack outside debug mode: " + report);
  }

  private static Path closed() {
    return TestData.dir("corpus").resolve("state_dict_small.pt");
  }

  private static Path leaked() {
    return TestData.dir("corpus").resolve("legacy_state_dict.pt");
  }

  private static long count(List<String> lines, String text) {
    return lines.stream().filter(l -> l.contains(text)).count();
  }

  /** Runs {@link LeakingLoader}; returns its stderr up to a little after the first report. */
  private static List<String> runLeakingLoader(boolean debug) throws Exception {
    List<String> options = new ArrayList<>(List.of("-Xmx256m",
        "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn",
        "-Dorg.slf4j.simpleLogger.log.org.bytedeco.javacpp.Loader=error"));
    if (debug) options.add("-D" + LeakReport.DEBUG_PROPERTY + "=true");
    Process p = new ProcessBuilder(ChildJvm.command(options, LeakingLoader.class,
        closed().toString(), leaked().toString())).redirectOutput(ProcessBuilder.Redirect.DISCARD)
        .start();
    List<String> lines = new ArrayList<>();
    Thread reader = new Thread(() -> {
      try (BufferedReader r = new BufferedReader(
          new InputStreamReader(p.getErrorStream(), StandardCharsets.UTF_8))) {
        for (String line; (line = r.readLine()) != null; ) {
          synchronized (lines) {
            lines.add(line);
          }
        }
      } catch (IOException e) {
        // the child was killed
      }
    }, "leaking-loader-stderr");
    reader.start();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(REPORT_TIMEOUT_SECONDS);
    while (System.nanoTime() < deadline && p.isAlive()) {
      synchronized (lines) {
        if (count(lines, REPORTED) > 0) break;
      }
      Thread.sleep(100);
    }
    Thread.sleep(1000); // the rest of the report (its stack), and any second report
    p.destroyForcibly();
    p.waitFor(REPORT_TIMEOUT_SECONDS, TimeUnit.SECONDS);
    reader.join(TimeUnit.SECONDS.toMillis(REPORT_TIMEOUT_SECONDS));
    synchronized (lines) {
      return List.copyOf(lines);
    }
  }
}
