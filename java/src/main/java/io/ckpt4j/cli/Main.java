package io.ckpt4j.cli;

import io.ckpt4j.CheckpointException;
import picocli.CommandLine.Command;
import picocli.CommandLine;

/** The {@code ckpt4j} command line. */
@Command(
    name = "ckpt4j",
    mixinStandardHelpOptions = true,
    version = "ckpt4j 0.1.0 (LibTorch 2.13.0)",
    description = "Read and write PyTorch checkpoints on the JVM, through LibTorch.",
    subcommands = {DemoCommand.class, InspectCommand.class, ConvertCommand.class, RunCommand.class,
        BenchLoadCommand.class, BenchSaveCommand.class, CommandLine.HelpCommand.class})
public final class Main {
  /** Exit status for a file ckpt4j cannot read (bad, hostile or unsupported input). */
  static final int EXIT_BAD_INPUT = 1;

  public static void main(String[] args) {
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
