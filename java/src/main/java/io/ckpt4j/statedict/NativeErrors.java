package io.ckpt4j.statedict;

/** LibTorch's errors as one line: their first line, without the C++ stack trace after it. */
final class NativeErrors {
  private NativeErrors() {}

  static String firstLine(RuntimeException e) {
    String message = e.getMessage();
    if (message == null || message.isBlank()) return e.getClass().getSimpleName();
    int newline = message.indexOf('\n');
    return (newline < 0 ? message : message.substring(0, newline)).strip();
  }
}
