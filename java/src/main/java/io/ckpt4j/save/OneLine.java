package io.ckpt4j.save;

/**
 * The first line of an error message: LibTorch's exceptions carry C++ stack traces, and ckpt4j's
 * messages are one line.
 */
final class OneLine {
  private OneLine() {}

  static String of(Throwable e) {
    String message = e.getMessage() == null ? e.toString() : e.getMessage().strip();
    int newline = message.indexOf('\n');
    return newline < 0 ? message : message.substring(0, newline).strip();
  }
}
