package io.ckpt4j.pickle;

import static io.ckpt4j.CheckpointException.Kind.LIMIT_EXCEEDED;
import static io.ckpt4j.CheckpointException.Kind.MALFORMED_PICKLE;

import io.ckpt4j.CheckpointException;
import io.ckpt4j.value.PythonTypes;
import java.io.ByteArrayOutputStream;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.util.regex.Pattern;

/**
 * The text arguments of protocol 0 opcodes, parsed exactly as Python's {@code pickle} does:
 * {@code int(line, 0)} for INT/LONG/GET/PUT, {@code float(line)} for FLOAT,
 * {@code codecs.escape_decode} for STRING and {@code raw-unicode-escape} for UNICODE.
 */
final class PickleText {
  /** Python 3.11+'s default {@code sys.int_info.default_max_str_digits} for int(str). */
  static final int MAX_DECIMAL_DIGITS = 4300;
  /** Longest decimal that always fits a long (19 digits may not). */
  private static final int LONG_SAFE_DIGITS = 18;
  private static final int HEX_RADIX = 16;
  private static final int OCTAL_RADIX = 8;
  private static final int BINARY_RADIX = 2;
  private static final int DECIMAL_RADIX = 10;
  private static final int BYTE_MASK = 0xff;
  /** raw-unicode-escape: a short escape has 4 hex digits, a long one ("U") 8. */
  private static final int SHORT_ESCAPE_DIGITS = 4;
  private static final int LONG_ESCAPE_DIGITS = 8;

  /**
   * What CPython's unpickler (PyOS_string_to_double) accepts besides inf/nan: plain decimal,
   * without whitespace or underscores.
   */
  private static final Pattern FLOAT =
      Pattern.compile("[+-]?(?:\\d+(?:\\.\\d*)?|\\.\\d+)(?:[eE][+-]?\\d+)?");
  private static final Pattern INF = Pattern.compile("[+-]?(?i:inf|infinity)");
  private static final Pattern NAN = Pattern.compile("[+-]?(?i:nan)");
  /** Python's {@code float('-nan')}: the quiet NaN with the sign bit set. */
  private static final double NEGATIVE_NAN = Double.longBitsToDouble(0xfff8_0000_0000_0000L);

  private PickleText() {}

  /** The line as ASCII text with Python's whitespace stripped; {@code null} if not ASCII. */
  static String asciiStripped(byte[] a, int len) {
    int from = 0;
    int to = len;
    while (from < to && isSpace(a[from])) {
      from++;
    }
    while (to > from && isSpace(a[to - 1])) {
      to--;
    }
    for (int i = from; i < to; i++) {
      if (a[i] < 0) {
        return null;
      }
    }
    return new String(a, from, to - from, StandardCharsets.ISO_8859_1);
  }

  private static boolean isSpace(byte b) {
    return b == ' ' || b == '\t' || b == '\n' || b == '\r' || b == 0x0b || b == 0x0c;
  }

  /**
   * Python's {@code int(text, 0)} ({@code base0}, for INT and LONG): optional sign, then 0x/0o/0b
   * digits or a decimal without leading zeros, single underscores between digits; or
   * {@code int(text)} (for GET and PUT): decimal, leading zeros allowed. Returns Long or
   * BigInteger.
   */
  static Object parseInt(byte[] a, int len, int maxBytes, boolean base0, PickleInput in)
      throws CheckpointException {
    String s = asciiStripped(a, len);
    if (s == null || s.isEmpty()) {
      throw in.error(MALFORMED_PICKLE, "invalid int literal");
    }
    int i = 0;
    boolean negative = false;
    if (s.charAt(0) == '+' || s.charAt(0) == '-') {
      negative = s.charAt(0) == '-';
      i = 1;
    }
    int radix = DECIMAL_RADIX;
    boolean prefixed = false;
    if (base0 && s.length() - i >= 2 && s.charAt(i) == '0') {
      char p = Character.toLowerCase(s.charAt(i + 1));
      radix = p == 'x' ? HEX_RADIX
          : p == 'o' ? OCTAL_RADIX
          : p == 'b' ? BINARY_RADIX
          : DECIMAL_RADIX;
      if (radix != DECIMAL_RADIX) {
        prefixed = true;
        i += 2;
      }
    }
    StringBuilder digits = new StringBuilder(s.length() - i);
    boolean lastUnderscore = !prefixed; // after a prefix one underscore may come first: 0x_1f
    for (; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c == '_') {
        if (lastUnderscore) {
          throw in.error(MALFORMED_PICKLE,
              "invalid int literal '" + PythonTypes.printable(s) + "'");
        }
        lastUnderscore = true;
      } else if (Character.digit(c, radix) >= 0) {
        digits.append(c);
        lastUnderscore = false;
      } else {
        throw in.error(MALFORMED_PICKLE, "invalid int literal '" + PythonTypes.printable(s) + "'");
      }
    }
    if (digits.length() == 0 || lastUnderscore) {
      throw in.error(MALFORMED_PICKLE, "invalid int literal '" + PythonTypes.printable(s) + "'");
    }
    if (base0 && radix == DECIMAL_RADIX && digits.charAt(0) == '0'
        && digits.chars().anyMatch(c -> c != '0')) {
      throw in.error(MALFORMED_PICKLE, "invalid int literal '" + PythonTypes.printable(s)
          + "': leading zeros are not allowed");
    }
    if (radix == DECIMAL_RADIX && digits.length() > MAX_DECIMAL_DIGITS) {
      throw in.error(LIMIT_EXCEEDED, "int literal of " + digits.length()
          + " digits exceeds Python's limit of "
          + MAX_DECIMAL_DIGITS);
    }
    long maxBits = (long) maxBytes * Byte.SIZE;
    long bitsPerDigit = radix == DECIMAL_RADIX ? 4 : Integer.numberOfTrailingZeros(radix);
    if ((long) digits.length() * bitsPerDigit > maxBits + bitsPerDigit) {
      throw in.error(LIMIT_EXCEEDED, "int literal of " + digits.length()
          + " digits exceeds the limit of "
          + maxBytes + " bytes (PickleLimits.maxIntegerBytes)");
    }
    if (negative) {
      digits.insert(0, '-');
    }
    if (radix == DECIMAL_RADIX && digits.length() <= LONG_SAFE_DIGITS) {
      return Long.parseLong(digits.toString());
    }
    return normalize(new BigInteger(digits.toString(), radix));
  }

  /** A BigInteger as Long when it fits: the value model keeps every such int as Long. */
  static Object normalize(BigInteger v) {
    return v.bitLength() < Long.SIZE ? (Object) v.longValue() : v;
  }

  /**
   * FLOAT's text as CPython's unpickler reads it: decimal or inf/infinity/nan in any case, with
   * an optional sign; no whitespace or underscores; a finite literal too large for a double is
   * an error, as Python's OverflowError.
   */
  static double parseFloat(byte[] a, int len, PickleInput in) throws CheckpointException {
    String s = new String(a, 0, len, StandardCharsets.ISO_8859_1);
    if (INF.matcher(s).matches()) {
      return s.charAt(0) == '-' ? Double.NEGATIVE_INFINITY : Double.POSITIVE_INFINITY;
    }
    if (NAN.matcher(s).matches()) {
      return s.charAt(0) == '-' ? NEGATIVE_NAN : Double.NaN; // Python keeps the sign of -nan
    }
    if (!FLOAT.matcher(s).matches()) {
      throw in.error(MALFORMED_PICKLE, "invalid float literal '" + PythonTypes.printable(s) + "'");
    }
    double v = Double.parseDouble(s);
    if (Double.isInfinite(v)) {
      throw in.error(MALFORMED_PICKLE,
          "float literal '" + PythonTypes.printable(s) + "' is too large for a double");
    }
    return v;
  }

  /**
   * INT's text as CPython's unpickler reads it: first C's {@code strtol(text, 0)} (leading
   * whitespace, sign, 0x hex, a leading 0 for octal); if that fails or overflows a long, Python's
   * {@code int(text, 0)}. Returns Boolean for "00" and "01" (any two-character text that strtol
   * reads as 0 or 1, as CPython does), else Long or BigInteger.
   */
  static Object parseCInt(byte[] a, int len, int maxBytes, PickleInput in)
      throws CheckpointException {
    Long v = strtol(a, len);
    if (v == null) {
      return parseInt(a, len, maxBytes, true, in);
    }
    if (len == 2 && (v == 0 || v == 1)) {
      return v == 1; // protocol 0's bools, "I00\n" and "I01\n"
    }
    return v;
  }

  /** C's strtol with base 0 over the whole text, or null if it stops early or overflows. */
  private static Long strtol(byte[] a, int len) {
    int i = 0;
    while (i < len && isSpace(a[i])) {
      i++;
    }
    int signAt = i;
    if (i < len && (a[i] == '+' || a[i] == '-')) {
      i++;
    }
    int radix = DECIMAL_RADIX;
    if (i < len && a[i] == '0') {
      boolean hex = i + 2 < len && (a[i + 1] == 'x' || a[i + 1] == 'X')
          && Character.digit(a[i + 2], HEX_RADIX) >= 0;
      radix = hex ? HEX_RADIX : OCTAL_RADIX;
      i += hex ? 2 : 0;
    }
    int digitsFrom = i;
    while (i < len && Character.digit(a[i], radix) >= 0) {
      i++;
    }
    if (i == digitsFrom || i != len) {
      return null;
    }
    String digits = new String(a, digitsFrom, i - digitsFrom, StandardCharsets.ISO_8859_1);
    try {
      return Long.parseLong(a[signAt] == '-' ? "-" + digits : digits, radix);
    } catch (NumberFormatException overflow) {
      return null;
    }
  }

  /**
   * STRING's argument: a quoted Python 2 str literal, undone with {@code codecs.escape_decode}
   * ({@code \\ \' \" \a \b \f \n \r \t \v}, octal {@code \ooo}, {@code \xhh}; other escapes stay
   * as written). Returns the raw bytes.
   */
  static byte[] unquote(byte[] a, int len, PickleInput in) throws CheckpointException {
    if (len < 2 || a[0] != a[len - 1] || (a[0] != '"' && a[0] != '\'')) {
      throw in.error(MALFORMED_PICKLE, "the STRING argument must be quoted");
    }
    ByteArrayOutputStream out = new ByteArrayOutputStream(len);
    int end = len - 1;
    int i = 1;
    while (i < end) {
      byte b = a[i++];
      if (b != '\\') {
        out.write(b);
        continue;
      }
      if (i >= end) {
        throw in.error(MALFORMED_PICKLE, "trailing \\ in the STRING argument");
      }
      byte c = a[i++];
      switch (c) {
        case '\n': break; // line continuation
        case '\\': out.write('\\'); break;
        case '\'': out.write('\''); break;
        case '"': out.write('"'); break;
        case 'a': out.write(0x07); break;
        case 'b': out.write('\b'); break;
        case 'f': out.write('\f'); break;
        case 'n': out.write('\n'); break;
        case 'r': out.write('\r'); break;
        case 't': out.write('\t'); break;
        case 'v': out.write(0x0b); break;
        case 'x': {
          int hi = i < end ? Character.digit(a[i], HEX_RADIX) : -1;
          int lo = i + 1 < end ? Character.digit(a[i + 1], HEX_RADIX) : -1;
          if (hi < 0 || lo < 0) {
            throw in.error(MALFORMED_PICKLE, "invalid \\x escape in the STRING argument");
          }
          out.write(hi * HEX_RADIX + lo);
          i += 2;
          break;
        }
        default:
          if (c >= '0' && c <= '7') {
            int v = c - '0';
            for (int k = 0; k < 2 && i < end && a[i] >= '0' && a[i] <= '7'; k++) {
              v = v * OCTAL_RADIX + (a[i++] - '0');
            }
            out.write(v & BYTE_MASK); // Python keeps the low byte of \400..\777
          } else {
            out.write('\\');
            out.write(c);
          }
      }
    }
    return out.toByteArray();
  }

  /**
   * UNICODE's argument, raw-unicode-escape: bytes are Latin-1 chars, except that a backslash
   * escape with "u" and 4 hex digits, or "U" and 8, is a code point when an odd number of
   * backslashes precede the letter.
   */
  static String rawUnicodeEscape(byte[] a, int len, PickleInput in) throws CheckpointException {
    StringBuilder out = new StringBuilder(len);
    int i = 0;
    while (i < len) {
      int b = a[i] & BYTE_MASK;
      if (b != '\\') {
        out.append((char) b);
        i++;
        continue;
      }
      int run = i;
      while (run < len && a[run] == '\\') {
        run++;
      }
      int backslashes = run - i;
      boolean escape = (backslashes & 1) == 1 && run < len && (a[run] == 'u' || a[run] == 'U');
      if (!escape) {
        for (int k = 0; k < backslashes; k++) {
          out.append('\\');
        }
        i = run;
        continue;
      }
      for (int k = 0; k < backslashes - 1; k++) {
        out.append('\\');
      }
      int count = a[run] == 'u' ? SHORT_ESCAPE_DIGITS : LONG_ESCAPE_DIGITS;
      int from = run + 1;
      if (from + count > len) {
        throw in.error(MALFORMED_PICKLE, "truncated \\u escape in the UNICODE argument");
      }
      int cp = 0;
      for (int k = 0; k < count; k++) {
        int d = Character.digit(a[from + k], HEX_RADIX);
        if (d < 0) {
          throw in.error(MALFORMED_PICKLE, "truncated \\u escape in the UNICODE argument");
        }
        cp = cp * HEX_RADIX + d;
      }
      if (cp < 0 || cp > Character.MAX_CODE_POINT) {
        throw in.error(MALFORMED_PICKLE, "\\U escape out of range in the UNICODE argument");
      }
      out.appendCodePoint(cp);
      i = from + count;
    }
    return out.toString();
  }
}
