package io.ckpt4j.statedict;


/** Text from a file, made safe to quote in a one-line error message. */
final class TreeValues {
  /** Longest text from a file quoted in a message. */
  static final int MAX_QUOTED = 80;

  private TreeValues() {}

  /** {@code text} safe for a one-line message: control characters escaped, long text cut. */
  static String quoted(String text) {
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < text.length() && sb.length() < MAX_QUOTED; i++) {
      char c = text.charAt(i);
      if (c < 0x20 || c == 0x7f) {
        sb.append(String.format("\\x%02x", (int) c));
      } else {
        sb.append(c);
      }
    }
    if (sb.length() >= MAX_QUOTED) sb.append("...");
    return sb.toString();
  }
}
