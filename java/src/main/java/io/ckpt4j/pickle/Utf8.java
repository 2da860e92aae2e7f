package io.ckpt4j.pickle;

import java.nio.charset.StandardCharsets;

/**
 * Strict UTF-8 (RFC 3629) with Python's optional {@code surrogatepass}: pickle's BINUNICODE
 * opcodes hold {@code str.encode('utf-8', 'surrogatepass')}, so a lone surrogate travels as the
 * three bytes ED A0..BF xx. Anything else that is not well-formed UTF-8 is an error, never a
 * replacement character.
 */
final class Utf8 {
  private static final int ASCII_LIMIT = 0x80;
  private static final int CONTINUATION_MIN = 0x80;
  private static final int CONTINUATION_MAX = 0xBF;
  private static final int SURROGATE_LEAD = 0xED;

  private Utf8() {}

  /**
   * Decodes {@code len} bytes at {@code off}; returns {@code null} if they are not UTF-8 (see
   * {@link #firstInvalid} for where).
   */
  static String decode(byte[] a, int off, int len, boolean surrogatePass) {
    int end = off + len;
    int i = off;
    while (i < end && a[i] >= 0) {
      i++;
    }
    if (i == end) {
      return new String(a, off, len, StandardCharsets.ISO_8859_1); // ASCII: compact and fast
    }
    char[] out = new char[len];
    int n = decodeInto(a, off, end, surrogatePass, out);
    return n < 0 ? null : new String(out, 0, n);
  }

  /** Offset (from {@code off}) of the first byte that breaks UTF-8, or -1 if there is none. */
  static int firstInvalid(byte[] a, int off, int len, boolean surrogatePass) {
    int n = decodeInto(a, off, off + len, surrogatePass, new char[len]);
    return n < 0 ? -n - 1 - off : -1;
  }

  /** Chars written, or {@code -(1 + index of the bad byte)}. */
  private static int decodeInto(byte[] a, int off, int end, boolean surrogatePass, char[] out) {
    int n = 0;
    int i = off;
    while (i < end) {
      int b0 = a[i] & 0xff;
      if (b0 < ASCII_LIMIT) {
        out[n++] = (char) b0;
        i++;
        continue;
      }
      int need;
      int min2;
      int max2;
      int cp;
      if (b0 >= 0xC2 && b0 <= 0xDF) {
        need = 1; min2 = CONTINUATION_MIN; max2 = CONTINUATION_MAX; cp = b0 & 0x1F;
      } else if (b0 >= 0xE0 && b0 <= 0xEF) {
        need = 2;
        min2 = b0 == 0xE0 ? 0xA0 : CONTINUATION_MIN; // E0: no overlong forms
        // ED A0..BF would be a surrogate: allowed only with surrogatepass
        max2 = b0 == SURROGATE_LEAD && !surrogatePass ? 0x9F : CONTINUATION_MAX;
        cp = b0 & 0x0F;
      } else if (b0 >= 0xF0 && b0 <= 0xF4) {
        need = 3;
        min2 = b0 == 0xF0 ? 0x90 : CONTINUATION_MIN; // F0: no overlong forms
        max2 = b0 == 0xF4 ? 0x8F : CONTINUATION_MAX; // F4 90+: past U+10FFFF
        cp = b0 & 0x07;
      } else {
        return -(1 + i);
      }
      if (end - i <= need) {
        return -(1 + i);
      }
      for (int k = 1; k <= need; k++) {
        int b = a[i + k] & 0xff;
        int lo = k == 1 ? min2 : CONTINUATION_MIN;
        int hi = k == 1 ? max2 : CONTINUATION_MAX;
        if (b < lo || b > hi) {
          return -(1 + i);
        }
        cp = (cp << 6) | (b & 0x3F);
      }
      i += need + 1;
      if (cp >= Character.MIN_SUPPLEMENTARY_CODE_POINT) {
        out[n++] = Character.highSurrogate(cp);
        out[n++] = Character.lowSurrogate(cp);
      } else {
        out[n++] = (char) cp;
      }
    }
    return n;
  }

  /**
   * Bytes in the UTF-8 form of {@code s}; a lone surrogate counts three bytes with
   * {@code surrogatePass} and makes the result -1 without it.
   */
  static long encodedLength(String s, boolean surrogatePass) {
    int len = s.length();
    long size = 0;
    for (int i = 0; i < len; i++) {
      char c = s.charAt(i);
      if (c < 0x80) {
        size += 1;
      } else if (c < 0x800) {
        size += 2;
      } else if (Character.isHighSurrogate(c) && i + 1 < len
          && Character.isLowSurrogate(s.charAt(i + 1))) {
        size += 4;
        i++;
      } else if (Character.isSurrogate(c) && !surrogatePass) {
        return -1;
      } else {
        size += 3;
      }
    }
    return size;
  }

  /** Encodes {@code s} into {@code out} at {@code off}; {@link #encodedLength} must fit there. */
  static void encodeInto(String s, byte[] out, int off) {
    int len = s.length();
    int n = off;
    for (int i = 0; i < len; i++) {
      char c = s.charAt(i);
      if (c < 0x80) {
        out[n++] = (byte) c;
      } else if (c < 0x800) {
        out[n++] = (byte) (0xC0 | (c >> 6));
        out[n++] = (byte) (0x80 | (c & 0x3F));
      } else if (Character.isHighSurrogate(c) && i + 1 < len
          && Character.isLowSurrogate(s.charAt(i + 1))) {
        int cp = Character.toCodePoint(c, s.charAt(++i));
        out[n++] = (byte) (0xF0 | (cp >> 18));
        out[n++] = (byte) (0x80 | ((cp >> 12) & 0x3F));
        out[n++] = (byte) (0x80 | ((cp >> 6) & 0x3F));
        out[n++] = (byte) (0x80 | (cp & 0x3F));
      } else {
        out[n++] = (byte) (0xE0 | (c >> 12));
        out[n++] = (byte) (0x80 | ((c >> 6) & 0x3F));
        out[n++] = (byte) (0x80 | (c & 0x3F));
      }
    }
  }

  /**
   * The UTF-8 form of {@code s}, or {@code null} if it has a lone surrogate and
   * {@code surrogatePass} is off (or is too long for one array).
   */
  static byte[] encode(String s, boolean surrogatePass) {
    long size = encodedLength(s, surrogatePass);
    if (size < 0 || size > PickleInput.MAX_ARRAY_LENGTH) {
      return null;
    }
    byte[] out = new byte[(int) size];
    encodeInto(s, out, 0);
    return out;
  }
}
