package io.ckpt4j.cli;

import io.ckpt4j.CheckpointException;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine;

/** The {@code ckpt4j} command line. */
@Command(
    name = "ckpt4j",
    mixinStandardHelpOptions = true,
    version = "ckpt4j 0.1.0 (LibTorch 2.13.0)",
    description = "Read and write PyTorch checkpoints on the JVM, through LibTorch.",
    subcommands = {DemoCommand.class, InspectCommand.class, ConvertCommand.class, DiffCommand.class,
        ScanCommand.class, LaunchCommand.class, TrainCommand.class,
        RunCommand.class,
        BenchLoadCommand.class, BenchSaveCommand.class, BenchDdpCommand.class,
        CommandLine.HelpCommand.class})
public final class Main {
  /** Exit status for a file ckpt4j cannot read (bad, hostile or unsupported input). */
  static final int EXIT_BAD_INPUT = 1;

  /**
   * JavaCPP logs to stderr unless told otherwise; its one message on a normal run is a notice
   * that the pinned openblas (0.3.31-1.5.13, the newest on Maven Central) is not javacpp
   * 1.5.14's own build, which the project checked to load and run. The CLI routes JavaCPP's
   * messages to SLF4J (slf4j-simple, warnings and errors on stderr) and keeps that one logger,
   * JavaCPP's Loader, to errors. A user's own -D settings win.
   */
  static final Map<String, String> LOGGING = Map.of(
      "org.bytedeco.javacpp.logger", "slf4j",
      "org.slf4j.simpleLogger.defaultLogLevel", "warn",
      "org.slf4j.simpleLogger.log.org.bytedeco.javacpp.Loader", "error");

  public static void main(String[] args) {
    LOGGING.forEach(System.getProperties()::putIfAbsent);
    System.exit(run(args));
  }

  /** Runs the CLI and returns its exit status (tests call this). */
  public static int run(String... args) {
    CommandLine cli = new CommandLine(new Main());
    cli.setExecutionExceptionHandler((e, commandLine, parseResult) -> {
      if (e instanceof CheckpointException) {
        commandLine.getErr().println("ckpt4j: error: " + e.getMessage());
        return EXIT_BAD_INPUT;
      }
      throw e;
    });
    return cli.execute(args);
  }
}
