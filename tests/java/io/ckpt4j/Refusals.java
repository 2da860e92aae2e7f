package io.ckpt4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ckpt4j.CheckpointException.Kind;
import java.util.EnumSet;
import java.util.Set;
import org.junit.jupiter.api.function.Executable;

/**
 * Asserts why a call is refused: one {@link CheckpointException} of the expected {@link Kind},
 * with a one-line message.
 */
public final class Refusals {
  private Refusals() {}

  /** The call fails with a one-line CheckpointException of kind {@code expected}. */
  public static CheckpointException assertRefused(Kind expected, Executable call) {
    return assertRefused(expected, call, "");
  }

  /** Like {@link #assertRefused(Kind, Executable)}; {@code what} names the case in failures. */
  public static CheckpointException assertRefused(Kind expected, Executable call, String what) {
    CheckpointException e = assertThrows(CheckpointException.class, call, what);
    assertEquals(expected, e.kind(), what + ": " + e.getMessage());
    assertOneLine(e);
    return e;
  }

  /**
   * The call fails with a one-line CheckpointException of one of the {@code accepted} kinds (for
   * loops over truncations and byte flips, where which check fires first depends on the input).
   */
  public static CheckpointException assertRefused(Set<Kind> accepted, Executable call,
      String what) {
    CheckpointException e = assertThrows(CheckpointException.class, call, what);
    assertTrue(accepted.contains(e.kind()),
        what + ": kind " + e.kind() + " is not one of " + accepted + ": " + e.getMessage());
    assertOneLine(e);
    return e;
  }

  /** Kinds that say the bytes of a file are damaged: cut off or corrupt. */
  public static final Set<Kind> DAMAGED = EnumSet.of(Kind.TRUNCATED, Kind.MALFORMED_CONTAINER,
      Kind.MALFORMED_PICKLE, Kind.INVALID_TENSOR, Kind.NOT_A_CHECKPOINT);

  private static void assertOneLine(CheckpointException e) {
    assertFalse(e.getMessage().contains("\n"), "one-line message: " + e.getMessage());
  }
}
