package io.ckpt4j.soak;

import io.ckpt4j.load.CheckpointLoader;
import io.ckpt4j.load.LoadOptions;
import io.ckpt4j.load.LoadedCheckpoint;
import io.ckpt4j.value.TensorRef;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;

/**
 * The concurrency soak (tests/soak/soak.sh; LoadSoakTest runs a short one): THREADS threads each
 * load FILE ROUNDS times, alternating eager and mmap loads, build every tensor, check two tensors'
 * sums against the first load's, and close the checkpoint. After each round (every thread has
 * closed its checkpoint) the process's memory is sampled: RSS (VmRSS of /proc/self/status),
 * JavaCPP's {@link Pointer#physicalBytes()} and {@link Pointer#totalBytes()}.
 *
 * <p>Prints the samples' first, last and max after the warm-up rounds and whether each stays
 * flat (last within {@value #FLAT_PERCENT}% of first), and exits {@value #EXIT_FAILED} on any
 * exception, a wrong sum, or RSS or physicalBytes growth beyond that.
 *
 * <p>Usage: {@code LoadSoak FILE THREADS ROUNDS}. Run it with a fixed heap ({@code -Xms = -Xmx},
 * {@code -XX:+AlwaysPreTouch}), so that the Java heap growing does not read as a leak.
 */
public final class LoadSoak {
  /** Allowed growth of a memory figure between the first and last sample after warm-up. */
  static final double FLAT_PERCENT = 5.0;
  /** Exit status of a failed soak. */
  static final int EXIT_FAILED = 1;
  /** Rounds before sampling counts: one tenth, at least this many (JIT code and malloc arenas grow at first). */
  private static final int MIN_WARM_UP_ROUNDS = 5;
  private static final int WARM_UP_DIVISOR = 10;
  private static final long MIB = 1L << 20;
  private static final long JOIN_TIMEOUT_HOURS = 12;
  /** How many evenly spaced samples the trend line shows. */
  private static final int TREND_POINTS = 12;

  private final Path file;
  private final int threads;
  private final int rounds;
  private final int warmUp;
  private final List<long[]> samples = new ArrayList<>();
  private final ConcurrentLinkedQueue<Throwable> failures = new ConcurrentLinkedQueue<>();
  private final AtomicLong loads = new AtomicLong();
  private volatile double[] expectedSums;

  private LoadSoak(Path file, int threads, int rounds) {
    this.file = file;
    this.threads = threads;
    this.rounds = rounds;
    this.warmUp = Math.max(MIN_WARM_UP_ROUNDS, rounds / WARM_UP_DIVISOR);
  }

  public static void main(String[] args) throws Exception {
    if (args.length != 3) {
      System.err.println("usage: LoadSoak FILE THREADS ROUNDS");
      System.exit(2);
    }
    LoadSoak soak = new LoadSoak(Path.of(args[0]), Integer.parseInt(args[1]),
        Integer.parseInt(args[2]));
    System.exit(soak.run() ? 0 : EXIT_FAILED);
  }

  /** Runs the soak and prints its figures; true when it passed. */
  boolean run() throws Exception {
    expectedSums = load(false);
    CyclicBarrier roundEnd = new CyclicBarrier(threads, this::sample);
    long start = System.nanoTime();
    List<Thread> workers = new ArrayList<>();
    for (int t = 0; t < threads; t++) {
      int id = t;
      Thread w = new Thread(() -> work(id, roundEnd), "soak-" + t);
      w.start();
      workers.add(w);
    }
    for (Thread w : workers) w.join(TimeUnit.HOURS.toMillis(JOIN_TIMEOUT_HOURS));
    double seconds = (System.nanoTime() - start) / 1e9;
    System.out.printf(Locale.ROOT, "soak: %s, %d threads x %d loads (eager and mmap alternating):"
        + " %d loads in %.1f s, %d failures%n", file.getFileName(), threads, rounds, loads.get(),
        seconds, failures.size());
    for (Throwable f : failures) System.out.println("  failure: " + f);
    boolean flat = report("RSS", 0) & report("physicalBytes", 1);
    report("totalBytes", 2); // JavaCPP-tracked allocations: informative (borrowed views are not)
    return failures.isEmpty() && flat && loads.get() == (long) threads * rounds;
  }

  private void work(int id, CyclicBarrier roundEnd) {
    for (int r = 0; r < rounds; r++) {
      try {
        double[] got = load((r + id) % 2 == 1);
        for (int i = 0; i < got.length; i++) {
          if (Double.compare(got[i], expectedSums[i]) != 0) {
            throw new AssertionError("round " + r + ": tensor sum " + got[i] + " != "
                + expectedSums[i]);
          }
        }
        loads.incrementAndGet();
      } catch (Throwable e) {
        failures.add(e);
      }
      try {
        roundEnd.await();
      } catch (Exception e) {
        failures.add(e);
        return;
      }
    }
  }

  /** Loads the file (eager or mmap), builds every tensor, sums the first and last; closes it. */
  @SuppressWarnings("try") // the scope frees the sums' temporaries
  private double[] load(boolean mmap) throws Exception {
    LoadOptions options = LoadOptions.defaults().mapLocation("cpu").mmap(mmap);
    try (LoadedCheckpoint ckpt = CheckpointLoader.load(file, options);
        PointerScope scope = new PointerScope()) {
      List<TensorRef> refs = ckpt.tensorRefs();
      for (TensorRef ref : refs) ckpt.tensor(ref);
      Tensor first = ckpt.tensor(refs.get(0));
      Tensor last = ckpt.tensor(refs.get(refs.size() - 1));
      return new double[] {first.sum().item_double(), last.sum().item_double()};
    }
  }

  /** The barrier's action: every thread has closed its checkpoint of this round. */
  private void sample() {
    samples.add(new long[] {rssBytes(), Pointer.physicalBytes(), Pointer.totalBytes()});
  }

  /** Prints first/last/max of one figure after warm-up; true when it stayed flat. */
  private boolean report(String name, int column) {
    List<long[]> counted = samples.subList(Math.min(warmUp, samples.size()), samples.size());
    if (counted.isEmpty()) {
      System.out.println(name + ": no samples after " + warmUp + " warm-up rounds");
      return false;
    }
    long first = counted.get(0)[column];
    long last = counted.get(counted.size() - 1)[column];
    long max = counted.stream().mapToLong(s -> s[column]).max().orElseThrow();
    double growth = first == 0 ? 0 : 100.0 * (last - first) / first;
    boolean flat = growth <= FLAT_PERCENT;
    System.out.printf(Locale.ROOT, "%s after %d warm-up rounds (%d samples): first %d MiB, last"
        + " %d MiB, max %d MiB, growth %+.1f%% -> %s%n", name, warmUp, counted.size(),
        first / MIB, last / MIB, max / MIB, growth,
        flat ? "flat within " + FLAT_PERCENT + "%" : "GREW beyond " + FLAT_PERCENT + "%");
    StringBuilder trend = new StringBuilder("  trend (MiB):");
    int step = Math.max(1, counted.size() / TREND_POINTS);
    for (int i = 0; i < counted.size(); i += step) trend.append(' ').append(counted.get(i)[column] / MIB);
    System.out.println(trend);
    return flat;
  }

  /** VmRSS of /proc/self/status, in bytes. */
  static long rssBytes() {
    try {
      for (String line : java.nio.file.Files.readAllLines(Path.of("/proc/self/status"))) {
        if (line.startsWith("VmRSS:")) {
          return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
        }
      }
    } catch (java.io.IOException e) {
      throw new IllegalStateException("cannot read /proc/self/status", e);
    }
    throw new IllegalStateException("no VmRSS line in /proc/self/status");
  }
}
