package io.ckpt4j;

import java.io.IOException;

/**
 * The one checked exception for a checkpoint that cannot be read or written: bad or hostile input,
 * a refused Python global, a device that does not exist, a failed native call.
 *
 * <p>The message is one line that says what went wrong, where (file, entry, byte offset or key
 * path) and, where there is one, how to fix it.
 */
public class CheckpointException extends IOException {
  private static final long serialVersionUID = 1L;

  public CheckpointException(String message) {
    super(message);
  }

  public CheckpointException(String message, Throwable cause) {
    super(message, cause);
  }

  /**
   * The first line of {@code e}'s message (or its name when it has none): LibTorch's exceptions
   * carry C++ stack traces, and ckpt4j's messages are one line.
   */
  public static String firstLine(Throwable e) {
    String message = e.getMessage() == null ? e.toString() : e.getMessage().strip();
    int newline = message.indexOf('\n');
    return newline < 0 ? message : message.substring(0, newline).strip();
  }
}
