package io.ckpt4j.cli;

import io.ckpt4j.CheckpointException;
import io.ckpt4j.load.CheckpointLoader;
import io.ckpt4j.load.LoadOptions;
import io.ckpt4j.load.LoadedCheckpoint;
import io.ckpt4j.save.SaveOptions;
import io.ckpt4j.save.TorchSaver;
import io.ckpt4j.value.TensorRef;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code ckpt4j bench-save FILE...}: loads each file eagerly onto the CPU (every tensor built, as
 * a Python job holds its state dict), then times saving it, best of N runs in one warm JVM: with
 * the default atomic, durable write ({@code save}: temp file, fsync, rename, directory fsync) and
 * without the fsyncs ({@code save-nofsync}; still atomic for a killed process). One line per file
 * and mode: {@code <file> <mode> <seconds>}. tests/bench/save.sh runs it beside torch.save.
 */
@Command(name = "bench-save", hidden = true, description = "Time checkpoint saves (benchmark).")
final class BenchSaveCommand implements Callable<Integer> {
  @Parameters(paramLabel = "FILE") List<Path> files;

  @Option(names = "--runs", defaultValue = "3") int runs;

  @Option(names = "--out-dir", paramLabel = "DIR",
      description = "where the saved copies go (default: beside each FILE); removed afterwards")
  Path outDir;

  @Spec CommandSpec spec;

  @Override
  public Integer call() throws CheckpointException, IOException {
    PrintWriter out = spec.commandLine().getOut();
    for (Path file : files) {
      Path dir = outDir != null ? outDir : file.toAbsolutePath().getParent();
      Path target = dir.resolve(file.getFileName() + ".ckpt4j-bench.pt");
      try (LoadedCheckpoint ckpt = CheckpointLoader.load(file,
          LoadOptions.defaults().mapLocation("cpu"))) {
        for (TensorRef ref : ckpt.tensorRefs()) ckpt.tensor(ref);
        out.printf("%s save %.4f%n", file, best(ckpt, target, SaveOptions.defaults()));
        out.printf("%s save-nofsync %.4f%n", file,
            best(ckpt, target, SaveOptions.defaults().fsync(false)));
        out.flush();
      } finally {
        settle(target);
      }
    }
    return 0;
  }

  private double best(LoadedCheckpoint ckpt, Path target, SaveOptions options)
      throws CheckpointException, IOException {
    double best = Double.MAX_VALUE;
    for (int i = 0; i < runs; i++) {
      settle(target);
      long start = System.nanoTime();
      TorchSaver.save(target, ckpt, options);
      best = Math.min(best, (System.nanoTime() - start) / 1e9);
    }
    return best;
  }

  /**
   * Untimed, before each run: the last run's file is flushed to disk and deleted, so no run pays
   * for another's write-back and each writes a new file, as torch.save to a new path does.
   * tests/bench/torch_save.py does the same.
   */
  private static void settle(Path target) throws IOException {
    if (!Files.exists(target)) return;
    try (FileChannel channel = FileChannel.open(target, StandardOpenOption.WRITE)) {
      channel.force(true);
    }
    Files.delete(target);
  }
}
