package io.ckpt4j.pickle;

import static io.ckpt4j.CheckpointException.Kind.MALFORMED_PICKLE;

import io.ckpt4j.CheckpointException;
import io.ckpt4j.value.PyBytes;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.Charset;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

/**
 * Decodes opcode arguments into scalar values: ints (text and two's complement), Python 3 str
 * (strict UTF-8 with surrogatepass), Python 2 str (the chosen charset), global names and
 * persistent ids; with every length checked against the input and the limits first.
 */
final class Scalars {
  private final PickleInput in;
  private final PickleOptions options;
  private final PickleLimits limits;

  Scalars(PickleInput in, PickleOptions options) {
    this.in = in;
    this.options = options;
    this.limits = options.limits();
  }

  /** INT: CPython's strtol-then-int(text, 0), with "00" and "01" as bools. */
  Object textInt() throws CheckpointException {
    return PickleText.parseCInt(in.line(), in.lineLength(), limits.maxIntegerBytes(), in);
  }

  /** LONG: Python's int(text, 0), after dropping one trailing 'L' (Python 2's long repr). */
  Object textLong() throws CheckpointException {
    byte[] a = in.line();
    int len = in.lineLength();
    if (len > 0 && a[len - 1] == 'L') {
      len--;
    }
    return PickleText.parseInt(a, len, limits.maxIntegerBytes(), true, in);
  }

  /** LONG1/LONG4: {@code n} bytes of two's complement, little-endian. */
  Object binaryInt(long n) throws CheckpointException {
    int len = in.checkLength(n, limits.maxIntegerBytes(), "PickleLimits.maxIntegerBytes");
    byte[] a = in.borrow(len);
    if (len <= Long.BYTES) {
      long v = 0;
      for (int i = len - 1; i >= 0; i--) {
        v = (v << Byte.SIZE) | (a[i] & 0xff);
      }
      int unused = Long.SIZE - len * Byte.SIZE;
      return len == 0 ? 0L : (v << unused) >> unused; // sign-extend
    }
    byte[] bigEndian = new byte[len];
    for (int i = 0; i < len; i++) {
      bigEndian[i] = a[len - 1 - i];
    }
    return PickleText.normalize(new BigInteger(bigEndian));
  }

  private int length(long n) throws CheckpointException {
    return in.checkLength(n, limits.maxStringBytes(), "PickleLimits.maxStringBytes");
  }

  /** FLOAT's text. */
  double textFloat() throws CheckpointException {
    return PickleText.parseFloat(in.line(), in.lineLength(), in);
  }

  /** BINUNICODE and friends: {@code n} bytes of UTF-8. */
  String unicode(long n) throws CheckpointException {
    return utf8(length(n));
  }

  /** UNICODE's raw-unicode-escape text. */
  String rawUnicode() throws CheckpointException {
    return PickleText.rawUnicodeEscape(in.line(), in.lineLength(), in);
  }

  /** BINBYTES and friends: {@code n} bytes. */
  PyBytes bytes(long n) throws CheckpointException {
    return PyBytes.wrap(in.bytes(length(n)));
  }

  /** BINSTRING, SHORT_BINSTRING: a Python 2 str of {@code n} bytes. */
  String py2String(long n) throws CheckpointException {
    return py2String(in.bytes(length(n)));
  }

  /** STRING: a quoted, escaped Python 2 str. */
  String quotedPy2String() throws CheckpointException {
    return py2String(PickleText.unquote(in.line(), in.lineLength(), in));
  }

  /** BINUNICODE and friends: UTF-8 with Python's surrogatepass. */
  private String utf8(int n) throws CheckpointException {
    byte[] a = in.borrow(n);
    String s = Utf8.decode(a, 0, n, true);
    if (s == null) {
      throw in.error(MALFORMED_PICKLE,
          "invalid UTF-8 at offset " + Utf8.firstInvalid(a, 0, n, true) + " of a "
          + n + "-byte string");
    }
    return s;
  }

  /** Python 2 {@code str} (STRING, BINSTRING, SHORT_BINSTRING) decoded with the chosen charset. */
  private String py2String(byte[] raw) throws CheckpointException {
    Charset charset = options.py2StringCharset();
    if (charset.equals(StandardCharsets.ISO_8859_1)) {
      return new String(raw, StandardCharsets.ISO_8859_1);
    }
    try {
      return charset.newDecoder()
          .onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT)
          .decode(ByteBuffer.wrap(raw))
          .toString();
    } catch (CharacterCodingException e) {
      throw in.error(MALFORMED_PICKLE, "a Python 2 str is not valid " + charset.name()
          + " (PickleOptions.py2StringCharset)");
    }
  }

  /** GLOBAL and INST's module or name line: strict UTF-8, as Python decodes it. */
  String utf8Line(String what) throws CheckpointException {
    byte[] a = in.line();
    int n = in.lineLength();
    String s = Utf8.decode(a, 0, n, false);
    if (s == null) {
      throw in.error(MALFORMED_PICKLE, "the " + what + " name is not valid UTF-8");
    }
    return s;
  }

  /** PERSID's id line: ASCII, as Python decodes it. */
  String persid() throws CheckpointException {
    byte[] a = in.line();
    int n = in.lineLength();
    for (int i = 0; i < n; i++) {
      if (a[i] < 0) {
        throw in.error(MALFORMED_PICKLE, "the persistent id is not ASCII");
      }
    }
    return new String(a, 0, n, StandardCharsets.US_ASCII);
  }
}
