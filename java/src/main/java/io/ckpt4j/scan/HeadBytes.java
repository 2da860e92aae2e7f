package io.ckpt4j.scan;

import java.nio.ByteBuffer;

/** What a file's or entry's first bytes look like, as torch.load and pickle would take them. */
final class HeadBytes {
  /** The PROTO opcode that starts a pickle of protocol 2 and later. */
  private static final int PROTO = 0x80;
  private static final int HIGHEST_PROTOCOL = 5;
  /** Opcodes a protocol 0 or 1 pickle may start with (FormatSniffer's list). */
  private static final String PROTOCOL_0_FIRST_OPCODES = "LIFVSNcip()]}";
  /** "PK": a zip local header or end record. */
  private static final int ZIP_P = 'P';
  private static final int ZIP_K = 'K';

  private HeadBytes() {}

  /** True when {@code head} (two bytes or fewer) may start a pickle. */
  static boolean looksLikePickle(ByteBuffer head) {
    if (head.remaining() < 1) return false;
    int first = head.get(head.position()) & 0xFF;
    if (first == PROTO) {
      return head.remaining() > 1 && (head.get(head.position() + 1) & 0xFF) <= HIGHEST_PROTOCOL;
    }
    return PROTOCOL_0_FIRST_OPCODES.indexOf((char) first) >= 0;
  }

  /** True when {@code head} starts with a protocol 2+ PROTO opcode: what torch.save writes. */
  static boolean looksLikeBinaryPickle(ByteBuffer head) {
    return head.remaining() > 1 && (head.get(head.position()) & 0xFF) == PROTO
        && (head.get(head.position() + 1) & 0xFF) <= HIGHEST_PROTOCOL;
  }

  /** True when {@code head} starts with "PK". */
  static boolean looksLikeZip(ByteBuffer head) {
    return head.remaining() > 1 && head.get(head.position()) == ZIP_P
        && head.get(head.position() + 1) == ZIP_K;
  }
}
