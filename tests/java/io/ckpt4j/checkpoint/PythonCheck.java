package io.ckpt4j.checkpoint;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Runs a tests/python script's check mode ({@code python SCRIPT check ARGS...}) with the build's
 * venv python and reads the JSON report it prints (kept as {@code check.json} in
 * {@code reportDir}).
 */
public final class PythonCheck {
  private static final long TIMEOUT_SECONDS = 300;

  private PythonCheck() {}

  public static JsonNode run(String script, Path reportDir, String... args) throws Exception {
    String python = System.getProperty("ckpt4j.python");
    if (python == null) fail("set -Dckpt4j.python to the build's venv python (torch 2.13)");
    Path path = Path.of(System.getProperty("ckpt4j.pythonTests", "tests/python")).resolve(script);
    List<String> command = new ArrayList<>(List.of(python, path.toString(), "check"));
    command.addAll(List.of(args));
    Path log = reportDir.resolve("check.json");
    Process p = new ProcessBuilder(command).redirectOutput(log.toFile())
        .redirectError(ProcessBuilder.Redirect.INHERIT).start();
    assertTrue(p.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS), "the Python check timed out");
    String report = Files.readString(log, StandardCharsets.UTF_8);
    if (report.isBlank()) fail(script + " check wrote no report (exit status " + p.exitValue() + ")");
    return TrainingRun.JSON.readTree(report);
  }
}
