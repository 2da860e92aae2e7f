package io.ckpt4j.cli;

import io.ckpt4j.CheckpointException;
import io.ckpt4j.CheckpointException.Kind;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code ckpt4j launch --nproc N [--master-addr A --master-port P --nnodes M --node-rank K] --
 * TARGET ARGS...}: torchrun for JVMs. Starts N processes on this host, each a rank of one job of
 * {@code N * M} ranks with torchrun's environment ({@code MASTER_ADDR}, {@code MASTER_PORT},
 * {@code RANK}, {@code WORLD_SIZE}, {@code LOCAL_RANK}, {@code LOCAL_WORLD_SIZE},
 * {@code GROUP_RANK}, {@code GROUP_WORLD_SIZE}, {@code ROLE_RANK}, {@code ROLE_WORLD_SIZE},
 * {@code ROLE_NAME}, and {@code OMP_NUM_THREADS=1} unless set, as torchrun does for several
 * processes), which {@code Distributed.init()} reads. TARGET is a ckpt4j subcommand
 * ({@code train}) or a Java main class on the classpath ({@code --classpath} adds to it).
 *
 * <p>Each line a rank prints is forwarded with a {@code [rank R]: } prefix (stdout to stdout,
 * stderr to stderr). When a rank fails, the others are stopped and the launcher exits with the
 * failed rank's status (the first to fail); it exits 0 when all succeed. Stopping the launcher
 * (Ctrl-C, SIGTERM) stops its ranks.
 *
 * <p>Several hosts: run the same command on each, with {@code --nnodes M}, its own
 * {@code --node-rank K} and node 0's reachable {@code --master-addr}; node 0's rank 0 hosts the
 * store. This project has run it on one host (loopback) only.
 */
@Command(name = "launch", mixinStandardHelpOptions = true,
    description = "Start N ranks of a distributed job on this host with torchrun's environment:"
        + " ckpt4j launch --nproc 2 -- train")
final class LaunchCommand implements Callable<Integer> {
  /** torchrun's default master port. */
  static final int DEFAULT_PORT = 29500;
  /** torchrun's default role name. */
  private static final String ROLE = "default";
  /** How long ranks get to stop after SIGTERM before they are killed. */
  private static final long STOP_GRACE_MS = 3000;
  /** How often the launcher looks at its ranks. */
  private static final long POLL_MS = 50;
  /** The status of a rank that could not be started, or died by a signal Java cannot see. */
  static final int EXIT_RANK_FAILED = 1;

  @Option(names = "--nproc", required = true, description = "ranks on this host (torchrun's"
      + " --nproc-per-node)")
  int nproc;

  @Option(names = "--nnodes", description = "hosts in the job (default 1)")
  int nnodes = 1;

  @Option(names = "--node-rank", description = "this host's index among them (default 0)")
  int nodeRank = 0;

  @Option(names = "--master-addr", description = "where node 0's rank 0 hosts the store"
      + " (default 127.0.0.1)")
  String masterAddr = "127.0.0.1";

  @Option(names = "--master-port", description = "its port (default 29500; 0 is not allowed:"
      + " every rank must know it)")
  int masterPort = DEFAULT_PORT;

  @Option(names = "--classpath", description = "added to the ranks' classpath for a Java main"
      + " class of your own")
  String classpath;

  @Option(names = "--jvm-option", paramLabel = "OPT", description = "an option for each rank's"
      + " JVM (repeatable): --jvm-option=-Xmx2g")
  List<String> jvmOptions = new ArrayList<>();

  @Parameters(paramLabel = "TARGET", arity = "1..*", description = "after --: a ckpt4j"
      + " subcommand (train) or a Java main class, and its arguments")
  List<String> target;

  @Spec CommandSpec spec;

  @Override
  public Integer call() throws CheckpointException {
    checkArguments();
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    List<Process> ranks = new ArrayList<>();
    List<Thread> pumps = new ArrayList<>();
    Thread stopper = new Thread(() -> stop(ranks), "ckpt4j-launch-stop");
    Runtime.getRuntime().addShutdownHook(stopper);
    try {
      for (int local = 0; local < nproc; local++) {
        int rank = nodeRank * nproc + local;
        ProcessBuilder pb = new ProcessBuilder(command());
        environment(pb.environment(), rank, local);
        Process p;
        try {
          p = pb.start();
        } catch (IOException e) {
          throw new CheckpointException(Kind.IO, "launch: cannot start rank " + rank + ": "
              + e.getMessage(), e);
        }
        ranks.add(p);
        pumps.add(pump(p.getInputStream(), out, rank));
        pumps.add(pump(p.getErrorStream(), err, rank));
      }
      int status = watch(ranks, err);
      for (Thread t : pumps) t.join(STOP_GRACE_MS);
      out.flush();
      err.flush();
      return status;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return EXIT_RANK_FAILED;
    } finally {
      stop(ranks);
      try {
        Runtime.getRuntime().removeShutdownHook(stopper);
      } catch (IllegalStateException shuttingDown) {
        // The hook is running: it stops the ranks itself.
      }
    }
  }

  private void checkArguments() throws CheckpointException {
    if (nproc < 1 || nnodes < 1) {
      throw new CheckpointException(Kind.INVALID_VALUE, "launch: --nproc and --nnodes must be 1"
          + " or more, not " + nproc + " and " + nnodes);
    }
    if (nodeRank < 0 || nodeRank >= nnodes) {
      throw new CheckpointException(Kind.INVALID_VALUE, "launch: --node-rank " + nodeRank
          + " is not in [0, " + nnodes + "): give each host its index, node 0 hosting the store");
    }
    if (masterPort < 1 || masterPort > 65_535) {
      throw new CheckpointException(Kind.INVALID_VALUE, "launch: --master-port " + masterPort
          + " is not a port every rank can be told: give one in [1, 65535]");
    }
  }

  /** The rank's command line: this JVM's java and classpath, then the target. */
  List<String> command() {
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.addAll(jvmOptions);
    Main.LOGGING.forEach((k, v) -> cmd.add("-D" + k + "=" + v));
    String cp = System.getProperty("java.class.path");
    if (classpath != null && !classpath.isBlank()) cp = classpath + java.io.File.pathSeparator + cp;
    cmd.add("-cp");
    cmd.add(cp);
    String first = target.get(0);
    if (isSubcommand(first)) cmd.add(Main.class.getName());
    cmd.addAll(target);
    return cmd;
  }

  private static boolean isSubcommand(String name) {
    return new CommandLine(new Main()).getSubcommands().containsKey(name);
  }

  /** torchrun's variables for rank {@code rank}, local rank {@code local}. */
  void environment(Map<String, String> env, int rank, int local) {
    int world = Math.multiplyExact(nproc, nnodes);
    env.put("MASTER_ADDR", masterAddr);
    env.put("MASTER_PORT", String.valueOf(masterPort));
    env.put("WORLD_SIZE", String.valueOf(world));
    env.put("RANK", String.valueOf(rank));
    env.put("LOCAL_RANK", String.valueOf(local));
    env.put("LOCAL_WORLD_SIZE", String.valueOf(nproc));
    env.put("GROUP_RANK", String.valueOf(nodeRank));
    env.put("GROUP_WORLD_SIZE", String.valueOf(nnodes));
    env.put("ROLE_RANK", String.valueOf(rank));
    env.put("ROLE_WORLD_SIZE", String.valueOf(world));
    env.put("ROLE_NAME", ROLE);
    env.put("TORCHELASTIC_RESTART_COUNT", "0");
    env.put("TORCHELASTIC_MAX_RESTARTS", "0");
    if (nproc > 1) env.putIfAbsent("OMP_NUM_THREADS", "1");
  }

  /** Forwards a rank's lines with its prefix. */
  private static Thread pump(InputStream in, PrintWriter to, int rank) {
    Thread t = new Thread(() -> {
      try (BufferedReader r = new BufferedReader(new InputStreamReader(in,
          StandardCharsets.UTF_8))) {
        for (String line; (line = r.readLine()) != null; ) {
          synchronized (to) {
            to.println("[rank " + rank + "]: " + line);
            to.flush();
          }
        }
      } catch (IOException e) {
        // The rank's pipe closed: it is gone.
      }
    }, "ckpt4j-launch-rank" + rank);
    t.setDaemon(true);
    t.start();
    return t;
  }

  /** Waits for every rank; on the first failure stops the others. The launcher's status. */
  private int watch(List<Process> ranks, PrintWriter err) throws InterruptedException {
    while (true) {
      boolean running = false;
      for (int i = 0; i < ranks.size(); i++) {
        Process p = ranks.get(i);
        if (p.isAlive()) {
          running = true;
          continue;
        }
        int status = p.exitValue();
        if (status != 0) {
          int rank = nodeRank * nproc + i;
          synchronized (err) {
            err.println("ckpt4j launch: rank " + rank + " failed with exit status " + status
                + "; stopping the other ranks");
            err.flush();
          }
          stop(ranks);
          return status;
        }
      }
      if (!running) return 0;
      Thread.sleep(POLL_MS);
    }
  }

  /** SIGTERM to every rank still running, SIGKILL to those still there after the grace. */
  private static void stop(List<Process> ranks) {
    for (Process p : ranks) if (p.isAlive()) p.destroy();
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(STOP_GRACE_MS);
    for (Process p : ranks) {
      try {
        long left = deadline - System.nanoTime();
        if (left <= 0 || !p.waitFor(left, TimeUnit.NANOSECONDS)) p.destroyForcibly();
      } catch (InterruptedException e) {
        p.destroyForcibly();
        Thread.currentThread().interrupt();
      }
    }
  }
}
