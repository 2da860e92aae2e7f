package io.ckpt4j.scan;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/** What a file's or entry's first bytes look like, as torch.load and pickle would take them. */
final class HeadBytes {
  /** The PROTO opcode that starts a pickle of protocol 2 and later. */
  private static final int PROTO = 0x80;
  private static final int HIGHEST_PROTOCOL = 5;
  /** Opcodes a protocol 0 or 1 pickle may start with (FormatSniffer's list). */
  private static final String PROTOCOL_0_FIRST_OPCODES = "LIFVSNcip()]}";
  /** Enough for every signature below (tar's sits at 257). */
  static final int HEAD_BYTES = 512;
  /** POSIX tar magic, at byte 257: torch.save's very first format. */
  private static final int TAR_MAGIC_OFFSET = 257;
  private static final byte[] TAR_MAGIC = "ustar".getBytes(StandardCharsets.US_ASCII);
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

  /** True when {@code head} holds a POSIX tar header's magic. */
  static boolean looksLikeTar(ByteBuffer head) {
    if (head.remaining() < TAR_MAGIC_OFFSET + TAR_MAGIC.length) return false;
    for (int i = 0; i < TAR_MAGIC.length; i++) {
      if (head.get(head.position() + TAR_MAGIC_OFFSET + i) != TAR_MAGIC[i]) return false;
    }
    return true;
  }
}
