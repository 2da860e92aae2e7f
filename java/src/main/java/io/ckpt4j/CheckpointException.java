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
}
