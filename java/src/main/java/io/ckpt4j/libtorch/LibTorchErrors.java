package io.ckpt4j.libtorch;

import io.ckpt4j.CheckpointException;
import java.util.regex.Pattern;

/**
 * Turns what LibTorch throws into ckpt4j's one-line errors.
 *
 * <p>A {@code c10::Error} reaches Java through JavaCPP as a {@link RuntimeException} whose message
 * is the error text, then {@code "Exception raised from ..."} and a C++ stack. An error inside
 * TorchScript code starts with {@value #INTERPRETER_HEADER}, a TorchScript traceback, and ends with
 * the Python-style line that says what went wrong ({@code RuntimeError: Given groups=1, ...}).
 */
final class LibTorchErrors {
  /** The first line of an error thrown while the TorchScript interpreter ran a method. */
  static final String INTERPRETER_HEADER =
      "The following operation failed in the TorchScript interpreter.";
  /** The last Python-style "SomeError: what" line of a TorchScript traceback. */
  private static final Pattern PYTHON_ERROR_LINE =
      Pattern.compile("^[A-Za-z_][A-Za-z0-9_.]*(Error|Exception): .*");
  /** Messages are cut to this many characters (shapes and names fit; tracebacks do not). */
  static final int MAX_MESSAGE_CHARS = 400;

  private LibTorchErrors() {}

  /** The line of {@code e}'s message that says what went wrong, without C++ stack or traceback. */
  static String firstLine(RuntimeException e) {
    String message = e.getMessage();
    if (message == null || message.isBlank()) return e.getClass().getSimpleName();
    String[] lines = message.split("\\R");
    String chosen = null;
    if (message.strip().startsWith(INTERPRETER_HEADER)) {
      for (int i = lines.length - 1; i >= 0 && chosen == null; i--) {
        if (PYTHON_ERROR_LINE.matcher(lines[i].strip()).matches()) chosen = lines[i].strip();
      }
    }
    for (int i = 0; i < lines.length && chosen == null; i++) {
      if (!lines[i].isBlank()) chosen = lines[i].strip();
    }
    if (chosen == null) return e.getClass().getSimpleName();
    return chosen.length() <= MAX_MESSAGE_CHARS ? chosen
        : chosen.substring(0, MAX_MESSAGE_CHARS) + "...";
  }

  /** A CheckpointException saying {@code what} failed, with LibTorch's reason on the same line. */
  static CheckpointException wrap(String what, RuntimeException e) {
    return new CheckpointException(what + ": " + firstLine(e), e);
  }
}
