package io.ckpt4j.distributed;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

/**
 * Test ranks: Java ranks as threads of this JVM (LibTorch's Gloo lets one process hold several
 * groups), Python ranks as tests/python/dist_peer.py processes; every wait bounded.
 */
final class Ranks {
  /** Loopback only: nothing leaves this machine. */
  static final String LOOPBACK = "127.0.0.1";
  /** The bound on a whole group's run in these tests (rendezvous, collectives, Python start). */
  static final long RUN_SECONDS = 120;

  /** One Java rank's work in a group. */
  @FunctionalInterface
  interface Body {
    void run(ProcessGroup group) throws Exception;
  }

  private Ranks() {}

  /** A TCP port free now on loopback (a race with other processes is possible but unlikely). */
  static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getByName(LOOPBACK))) {
      return s.getLocalPort();
    }
  }

  /** Starts Java ranks {@code ranks} of a group of {@code world}, each on its own thread. */
  static List<Future<Void>> startJava(ExecutorService pool, int port, int world,
      java.time.Duration timeout, Body body, int... ranks) {
    List<Future<Void>> futures = new ArrayList<>();
    for (int r : ranks) {
      futures.add(pool.submit(() -> {
        DistributedOptions o = DistributedOptions.tcp(LOOPBACK, port, r, world)
            .withTimeout(timeout);
        try (ProcessGroup g = Distributed.init(o)) {
          body.run(g);
        }
        return null;
      }));
    }
    return futures;
  }

  /** Waits for every future, rethrowing the first failure. */
  static void await(List<Future<Void>> futures) throws Exception {
    for (Future<Void> f : futures) {
      try {
        f.get(RUN_SECONDS, TimeUnit.SECONDS);
      } catch (java.util.concurrent.ExecutionException e) {
        if (e.getCause() instanceof Exception x) throw x;
        throw e;
      }
    }
  }

  /** A pool for Java ranks whose threads never keep the JVM alive. */
  static ExecutorService pool(int threads) {
    return Executors.newFixedThreadPool(threads, run -> {
      Thread t = new Thread(run, "java-rank");
      t.setDaemon(true);
      return t;
    });
  }

  /** Starts {@code tests/python/dist_peer.py MODE ARGS...}; stdout goes to {@code out}. */
  static Process python(Path out, String... args) throws IOException {
    String python = System.getProperty("ckpt4j.python");
    if (python == null) fail("set -Dckpt4j.python to the build's venv python (torch 2.13)");
    Path script = Path.of(System.getProperty("ckpt4j.pythonTests", "tests/python"))
        .resolve("dist_peer.py");
    List<String> command = new ArrayList<>(List.of(python, script.toString()));
    command.addAll(List.of(args));
    return new ProcessBuilder(command).redirectOutput(out.toFile())
        .redirectError(ProcessBuilder.Redirect.INHERIT).start();
  }

  /** Waits for a Python rank (killing it past the bound) and returns what it printed. */
  static String finish(Process p, Path out) throws Exception {
    boolean done = p.waitFor(RUN_SECONDS, TimeUnit.SECONDS);
    if (!done) p.destroyForcibly();
    assertTrue(done, "the Python rank did not finish within " + RUN_SECONDS + " s");
    String printed = Files.readString(out).strip();
    assertTrue(p.exitValue() == 0, "the Python rank failed (exit " + p.exitValue() + "): "
        + printed);
    return printed;
  }
}
