package io.ckpt4j.distributed;

import io.ckpt4j.CheckpointException;
import io.ckpt4j.CheckpointException.Kind;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Objects;

/**
 * The arguments of {@code torch.distributed.init_process_group}: backend, where the ranks meet
 * (a {@code TCPStore} that rank 0 hosts, Python's {@code env://} and {@code tcp://}, or a
 * {@code FileStore}, Python's {@code file://}), this process's rank, the world size and the
 * timeout.
 *
 * <pre>{@code
 * DistributedOptions.fromEnvironment();                         // torchrun: env://
 * DistributedOptions.tcp("127.0.0.1", 29500, rank, 2);          // tcp://127.0.0.1:29500
 * DistributedOptions.file(Path.of("/tmp/rdzv"), rank, 2)        // file:///tmp/rdzv
 *     .withTimeout(Duration.ofSeconds(10));
 * }</pre>
 *
 * <p>The timeout is Python's {@code timeout=}: it bounds the rendezvous (every rank joining) and,
 * unless a call names its own, each collective. Its default is Python's for Gloo, 30 minutes.
 *
 * <p>Thread safety: immutable; the {@code with} methods return new options.
 */
public final class DistributedOptions {
  /** The CPU backend, the only one this build runs. */
  public static final String GLOO = "gloo";
  /** The CUDA backend: selected for CUDA tensors by the presets' gpu build only. */
  public static final String NCCL = "nccl";
  /** Python's {@code default_pg_timeout} for Gloo: 30 minutes. */
  public static final Duration DEFAULT_TIMEOUT = Duration.ofMinutes(30);
  /** The largest TCP port. */
  private static final int MAX_PORT = 65_535;

  /** How the ranks meet. */
  public enum Rendezvous {
    /** A TCPStore at {@link #masterAddr()}:{@link #masterPort()}, hosted by rank 0. */
    TCP,
    /** A FileStore at {@link #file()}, a path every rank can reach. */
    FILE
  }

  private final String backend;
  private final Rendezvous rendezvous;
  private final String masterAddr;
  private final int masterPort;
  private final Path file;
  private final int rank;
  private final int worldSize;
  private final int localRank;
  private final Duration timeout;

  private DistributedOptions(String backend, Rendezvous rendezvous, String masterAddr,
      int masterPort, Path file, int rank, int worldSize, int localRank, Duration timeout) {
    this.backend = backend;
    this.rendezvous = rendezvous;
    this.masterAddr = masterAddr;
    this.masterPort = masterPort;
    this.file = file;
    this.rank = rank;
    this.worldSize = worldSize;
    this.localRank = localRank;
    this.timeout = timeout;
  }

  /**
   * {@code init_process_group("gloo", init_method="tcp://ADDR:PORT", rank=, world_size=)}. Rank 0
   * hosts the store; port 0 lets rank 0 pick a free port ({@link ProcessGroup#masterPort()}).
   *
   * @throws CheckpointException ({@link Kind#INVALID_VALUE}) for a rank outside
   *     {@code [0, worldSize)}, a world size below 1 or a port outside {@code [0, 65535]}
   */
  public static DistributedOptions tcp(String masterAddr, int masterPort, int rank, int worldSize)
      throws CheckpointException {
    Objects.requireNonNull(masterAddr, "masterAddr");
    if (masterPort < 0 || masterPort > MAX_PORT) {
      throw new CheckpointException(Kind.INVALID_VALUE, "MASTER_PORT " + masterPort
          + " is not a TCP port: give one in [0, " + MAX_PORT + "]");
    }
    return checked(new DistributedOptions(GLOO, Rendezvous.TCP, masterAddr, masterPort, null,
        rank, worldSize, rank, DEFAULT_TIMEOUT));
  }

  /**
   * {@code init_process_group("gloo", init_method="file://PATH", rank=, world_size=)}: the ranks
   * meet in a file (a fresh one per job: Python's rule, as a stale file holds the last job's keys).
   *
   * @throws CheckpointException ({@link Kind#INVALID_VALUE}) for a bad rank or world size
   */
  public static DistributedOptions file(Path file, int rank, int worldSize)
      throws CheckpointException {
    Objects.requireNonNull(file, "file");
    return checked(new DistributedOptions(GLOO, Rendezvous.FILE, null, 0, file, rank, worldSize,
        rank, DEFAULT_TIMEOUT));
  }

  /** {@code init_method="env://"}, what torchrun sets, from this process's environment. */
  public static DistributedOptions fromEnvironment() throws CheckpointException {
    return fromEnvironment(System.getenv());
  }

  /**
   * {@code init_method="env://"} from {@code env}: {@code MASTER_ADDR}, {@code MASTER_PORT},
   * {@code RANK}, {@code WORLD_SIZE} (all required, as in Python) and {@code LOCAL_RANK}
   * (defaults to {@code RANK}).
   *
   * @throws CheckpointException ({@link Kind#INVALID_VALUE}) naming the variable that is missing
   *     or not a number
   */
  public static DistributedOptions fromEnvironment(Map<String, String> env)
      throws CheckpointException {
    String addr = required(env, "MASTER_ADDR");
    int port = integer(env, "MASTER_PORT");
    int rank = integer(env, "RANK");
    int world = integer(env, "WORLD_SIZE");
    DistributedOptions o = tcp(addr, port, rank, world);
    int localRank = env.containsKey("LOCAL_RANK") ? integer(env, "LOCAL_RANK") : rank;
    return new DistributedOptions(o.backend, o.rendezvous, addr, port, null, rank, world,
        localRank, o.timeout);
  }

  /**
   * These options with another backend: {@code "gloo"}; {@code "nccl"} is accepted here and
   * refused by {@link Distributed#init} in this CPU build.
   */
  public DistributedOptions withBackend(String backend) {
    return new DistributedOptions(Objects.requireNonNull(backend, "backend"), rendezvous,
        masterAddr, masterPort, file, rank, worldSize, localRank, timeout);
  }

  /**
   * These options with Python's {@code timeout=}: the bound on the rendezvous and the default
   * bound on each collective.
   *
   * @throws IllegalArgumentException for a zero or negative timeout
   */
  public DistributedOptions withTimeout(Duration timeout) {
    if (timeout.isZero() || timeout.isNegative()) {
      throw new IllegalArgumentException("timeout must be positive: " + timeout);
    }
    return new DistributedOptions(backend, rendezvous, masterAddr, masterPort, file, rank,
        worldSize, localRank, timeout);
  }

  public String backend() {
    return backend;
  }

  public Rendezvous rendezvous() {
    return rendezvous;
  }

  /** {@code MASTER_ADDR}; null for a file rendezvous. */
  public String masterAddr() {
    return masterAddr;
  }

  /** {@code MASTER_PORT}; 0 asks rank 0 for a free port. */
  public int masterPort() {
    return masterPort;
  }

  /** The FileStore's path; null for a TCP rendezvous. */
  public Path file() {
    return file;
  }

  public int rank() {
    return rank;
  }

  public int worldSize() {
    return worldSize;
  }

  /** {@code LOCAL_RANK}: this process's index on its host (torchrun's; the rank otherwise). */
  public int localRank() {
    return localRank;
  }

  public Duration timeout() {
    return timeout;
  }

  /** Where the ranks meet, for messages: {@code tcp://ADDR:PORT} or {@code file://PATH}. */
  public String initMethod() {
    return rendezvous == Rendezvous.TCP ? "tcp://" + masterAddr + ":" + masterPort
        : "file://" + file;
  }

  private static DistributedOptions checked(DistributedOptions o) throws CheckpointException {
    if (o.worldSize < 1) {
      throw new CheckpointException(Kind.INVALID_VALUE, "WORLD_SIZE " + o.worldSize
          + " is not a world size: give the number of ranks, 1 or more");
    }
    if (o.rank < 0 || o.rank >= o.worldSize) {
      throw new CheckpointException(Kind.INVALID_VALUE, "RANK " + o.rank + " is outside [0, "
          + o.worldSize + "): give each process a rank from 0 to WORLD_SIZE - 1");
    }
    return o;
  }

  private static String required(Map<String, String> env, String name)
      throws CheckpointException {
    String value = env.get(name);
    if (value == null || value.isBlank()) {
      throw new CheckpointException(Kind.INVALID_VALUE, "environment variable " + name
          + " is not set: init from the environment needs MASTER_ADDR, MASTER_PORT, RANK and"
          + " WORLD_SIZE (torchrun sets them), or use DistributedOptions.tcp(...)");
    }
    return value.strip();
  }

  private static int integer(Map<String, String> env, String name) throws CheckpointException {
    String value = required(env, name);
    try {
      return Integer.parseInt(value);
    } catch (NumberFormatException e) {
      throw new CheckpointException(Kind.INVALID_VALUE, "environment variable " + name + "='"
          + value + "' is not an integer");
    }
  }
}
