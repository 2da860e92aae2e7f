package io.ckpt4j.cli;

import io.ckpt4j.CheckpointException;
import io.ckpt4j.load.CheckpointLoader;
import io.ckpt4j.load.LoadOptions;
import io.ckpt4j.load.LoadedCheckpoint;
import io.ckpt4j.value.TensorRef;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code ckpt4j bench-load FILE...}: times loading each file eagerly (every storage read, every
 * tensor built), lazily (opened, no tensor bytes read, no tensors built) and mapped (lazy, then
 * every tensor built over its mapped storage: what torch.load(mmap=True) returns), best of N runs
 * in one JVM, one line per file and mode: {@code <file> <mode> <seconds>}, and a line {@code
 * <file> tensors <count>}. The benchmark
 * script tests/bench/load.sh runs it beside Python's torch.load and prints the ratios.
 */
@Command(name = "bench-load", hidden = true, description = "Time checkpoint loads (benchmark).")
final class BenchLoadCommand implements Callable<Integer> {
  @Parameters(paramLabel = "FILE") List<Path> files;

  @Option(names = "--runs", defaultValue = "5") int runs;

  /**
   * Untimed mapped opens of each file first (every tensor built over its mapping, no bytes read),
   * so that the timed runs meet JIT-compiled parsing code, as a long-running service would.
   */
  @Option(names = "--warmup", defaultValue = "0") int warmup;

  /**
   * Untimed lazy opens of each file first, no tensor built: warms the parsing code where a
   * {@code --warmup} open is costly (a DCP directory's tensors are read when built).
   */
  @Option(names = "--warmup-lazy", defaultValue = "0") int warmupLazy;

  @Spec CommandSpec spec;

  @Override
  public Integer call() throws CheckpointException {
    PrintWriter out = spec.commandLine().getOut();
    for (Path file : files) {
      for (int i = 0; i < warmupLazy; i++) {
        CheckpointLoader.load(file, LoadOptions.defaults().mmap(true)).close();
      }
      for (int i = 0; i < warmup; i++) {
        try (LoadedCheckpoint ckpt = CheckpointLoader.load(file, LoadOptions.defaults().mmap(true))) {
          for (TensorRef ref : ckpt.tensorRefs()) ckpt.tensor(ref);
        }
      }
      out.printf("%s tensors %d%n", file, CheckpointLoader.describe(file,
          LoadOptions.defaults()).tensorRefs().size());
      out.printf("%s eager %.4f%n", file, best(file, false, true));
      out.printf("%s lazy %.4f%n", file, best(file, true, false));
      out.printf("%s mapped %.4f%n", file, best(file, true, true));
      out.flush();
    }
    return 0;
  }

  private double best(Path file, boolean lazy, boolean buildTensors) throws CheckpointException {
    LoadOptions options = LoadOptions.defaults().mapLocation("cpu").mmap(lazy);
    double best = Double.MAX_VALUE;
    for (int i = 0; i < runs; i++) {
      long start = System.nanoTime();
      try (LoadedCheckpoint ckpt = CheckpointLoader.load(file, options)) {
        if (buildTensors) {
          // torch.load returns tensors: build each one (eager: storages were read by load();
          // lazy: each storage is mapped now, its bytes still unread).
          for (TensorRef ref : ckpt.tensorRefs()) ckpt.tensor(ref);
        }
        best = Math.min(best, (System.nanoTime() - start) / 1e9);
      }
    }
    return best;
  }
}
