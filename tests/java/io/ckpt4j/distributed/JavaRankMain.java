package io.ckpt4j.distributed;

import java.time.Duration;

/**
 * A Java rank in a process of its own, started the way torchrun starts a rank: the group comes
 * from the environment (MASTER_ADDR, MASTER_PORT, RANK, WORLD_SIZE). Runs
 * {@link CollectiveCases} and prints {@code checks N}; exits 1 on any failure.
 *
 * <pre>{@code java ... io.ckpt4j.distributed.JavaRankMain TIMEOUT_SECONDS}</pre>
 */
public final class JavaRankMain {
  private JavaRankMain() {}

  public static void main(String[] args) {
    try {
      DistributedOptions o = DistributedOptions.fromEnvironment()
          .withTimeout(Duration.ofSeconds(Long.parseLong(args[0])));
      try (ProcessGroup g = Distributed.init(o)) {
        System.out.println("checks " + CollectiveCases.run(g));
      }
      System.exit(0);
    } catch (Throwable t) {
      System.out.println("failed: " + t);
      System.exit(1);
    }
  }
}
