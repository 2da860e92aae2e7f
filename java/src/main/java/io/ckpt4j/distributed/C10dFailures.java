package io.ckpt4j.distributed;

import io.ckpt4j.CheckpointException;
import io.ckpt4j.CheckpointException.Kind;
import java.util.List;
import java.util.regex.Pattern;

/**
 * Rewords what c10d and Gloo throw (a RuntimeException whose message is a C++ source location, a
 * reason and often a stack trace) into one {@link CheckpointException} line that says which rank
 * failed in which call and what to do.
 *
 * <p>Thread safety: stateless.
 */
final class C10dFailures {
  /** Gloo's and c10d's messages start with the C++ source location: {@code [/path/x.cc:78] }. */
  private static final Pattern SOURCE_PREFIX = Pattern.compile("^\\[[^\\]]*:\\d+\\]\\s*");
  /** Where Gloo's generic advice starts after its reason ("... GLHF!"): cut, ours follows. */
  private static final String GLOO_ADVICE = " This is typically caused";
  /** Words of the messages a missing, dead or slow peer causes (Gloo, TCPStore, c10d). */
  private static final List<String> PEER_SIGNS = List.of("timed out", "timeout", "closed by peer",
      "connection reset", "connection refused", "broken pipe", "socket", "connect");
  /** What a peer failure leaves to do, appended to its message. */
  static final String PEER_HINT = "start every rank (all WORLD_SIZE of them, with the same"
      + " rendezvous) or raise the timeout";
  /** Appended for a failure of a group that exists: Gloo cannot recover it. */
  static final String CLOSE_HINT = "; this group cannot be used again: close it";

  private C10dFailures() {}

  /**
   * The exception for {@code failure} of {@code call} on {@code who} (e.g. "rank 0 of 2"):
   * {@link Kind#PEER_FAILED} when a peer is missing, dead or too slow, else {@link Kind#NATIVE}.
   */
  static CheckpointException reword(String who, String call, RuntimeException failure) {
    return reword(who, call, failure, false);
  }

  /** Like {@link #reword(String, String, RuntimeException)}, for a collective of a made group. */
  static CheckpointException rewordCollective(String who, String call, RuntimeException failure) {
    return reword(who, call, failure, true);
  }

  private static CheckpointException reword(String who, String call, RuntimeException failure,
      boolean groupMade) {
    String reason = SOURCE_PREFIX.matcher(CheckpointException.firstLine(failure)).replaceFirst("");
    int advice = reason.indexOf(GLOO_ADVICE);
    if (advice > 0) reason = reason.substring(0, advice).replaceFirst("\\.$", "");
    boolean peer = isPeerFailure(reason);
    String message = who + ": " + call + " failed: " + reason + (peer ? "; " + PEER_HINT : "")
        + (groupMade ? CLOSE_HINT : "");
    return new CheckpointException(peer ? Kind.PEER_FAILED : Kind.NATIVE, message, failure);
  }

  private static boolean isPeerFailure(String reason) {
    String lower = reason.toLowerCase(java.util.Locale.ROOT);
    for (String sign : PEER_SIGNS) if (lower.contains(sign)) return true;
    return false;
  }
}
