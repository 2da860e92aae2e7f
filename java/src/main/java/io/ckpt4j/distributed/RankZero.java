package io.ckpt4j.distributed;

import io.ckpt4j.CheckpointException;
import io.ckpt4j.CheckpointException.Kind;
import java.util.Objects;

/**
 * Python's {@code if dist.get_rank() == 0: torch.save(...)} followed by {@code dist.barrier()}:
 * rank 0 does the work, every rank waits for it, and every rank learns whether it succeeded (the
 * outcome is broadcast), so a failed save on rank 0 fails the other ranks at once with a clear
 * line instead of leaving them to train on without a checkpoint.
 *
 * <pre>{@code
 * RankZero.run(group, "save " + path, () -> ckpt.save(path));
 * }</pre>
 *
 * <p>Thread safety: stateless; the group serializes the collectives.
 */
public final class RankZero {
  /** The rank that does the work (Python's convention). */
  public static final int RANK = 0;
  private static final long SUCCEEDED = 1;
  private static final long FAILED = 0;

  private RankZero() {}

  /** Work that only rank 0 does. */
  @FunctionalInterface
  public interface Action {
    void run() throws CheckpointException;
  }

  /**
   * Runs {@code action} on rank 0; every rank returns once it is done (the barrier).
   *
   * @throws CheckpointException on rank 0, the action's own failure; on the other ranks
   *     {@link Kind#PEER_FAILED} naming {@code what} when rank 0's action failed, or when rank 0
   *     did not report within the group's timeout
   */
  public static void run(ProcessGroup group, String what, Action action)
      throws CheckpointException {
    Objects.requireNonNull(group, "group");
    Objects.requireNonNull(action, "action");
    if (group.rank() != RANK) {
      if (Signals.broadcast(group, FAILED, RANK) != SUCCEEDED) {
        throw new CheckpointException(Kind.PEER_FAILED, group.who() + ": rank 0 failed to "
            + what + "; rank 0's own error says why (fix that, then run again)");
      }
      return;
    }
    try {
      action.run();
    } catch (CheckpointException | RuntimeException | Error e) {
      try {
        Signals.broadcast(group, FAILED, RANK);
      } catch (CheckpointException | RuntimeException told) {
        e.addSuppressed(told);
      }
      throw e;
    }
    Signals.broadcast(group, SUCCEEDED, RANK);
  }
}
