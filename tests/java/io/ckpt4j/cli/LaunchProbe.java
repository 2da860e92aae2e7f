package io.ckpt4j.cli;

/**
 * A rank for LaunchCommandTest: prints torchrun's variables as the launcher set them; local rank 1
 * exits with status 3 at once, the others wait (at most a minute) to be stopped.
 */
public final class LaunchProbe {
  static final int FAILING_LOCAL_RANK = 1;
  static final int FAILURE_STATUS = 3;
  private static final long WAIT_MS = 60_000;

  private LaunchProbe() {}

  public static void main(String[] args) throws InterruptedException {
    StringBuilder line = new StringBuilder("env");
    for (String name : new String[] {"MASTER_ADDR", "MASTER_PORT", "RANK", "WORLD_SIZE",
        "LOCAL_RANK", "LOCAL_WORLD_SIZE", "GROUP_RANK", "GROUP_WORLD_SIZE", "ROLE_RANK",
        "ROLE_WORLD_SIZE", "OMP_NUM_THREADS"}) {
      line.append(' ').append(name).append('=').append(System.getenv(name));
    }
    System.out.println(line);
    System.out.flush();
    if (Integer.parseInt(System.getenv("LOCAL_RANK")) == FAILING_LOCAL_RANK) System.exit(FAILURE_STATUS);
    Thread.sleep(WAIT_MS);
  }
}
