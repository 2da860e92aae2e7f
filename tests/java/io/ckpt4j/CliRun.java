package io.ckpt4j;

import io.ckpt4j.cli.Main;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;

/** One run of the {@code ckpt4j} command in this JVM: its exit status and what it printed. */
public record CliRun(int exit, String stdout, String stderr) {
  /** JavaCPP's note that the presets' versions differ, which the tests' classpath prints. */
  private static final String JAVACPP_VERSION_WARNING = "Warning: Versions of org.bytedeco";
  /** Jazzer's note on a class it instruments as it loads (after a fuzz test in this JVM). */
  private static final String JAZZER_INSTRUMENTED = "INFO: Instrumented ";

  /** Runs {@code ckpt4j ARGS}, capturing stdout and stderr. */
  public static CliRun of(String... args) {
    PrintStream stdout = System.out;
    PrintStream stderr = System.err;
    ByteArrayOutputStream o = new ByteArrayOutputStream();
    ByteArrayOutputStream e = new ByteArrayOutputStream();
    try {
      System.setOut(new PrintStream(o, true, StandardCharsets.UTF_8));
      System.setErr(new PrintStream(e, true, StandardCharsets.UTF_8));
      int exit = Main.run(args);
      return new CliRun(exit, o.toString(StandardCharsets.UTF_8),
          e.toString(StandardCharsets.UTF_8));
    } finally {
      System.setOut(stdout);
      System.setErr(stderr);
    }
  }

  /** The lines ckpt4j itself wrote to stderr (JavaCPP's version note, Jazzer's notes left out). */
  public List<String> errorLines() {
    return stderr.lines().filter(l -> !l.isBlank() && !l.startsWith(JAVACPP_VERSION_WARNING)
        && !l.startsWith(JAZZER_INSTRUMENTED)).toList();
  }
}
