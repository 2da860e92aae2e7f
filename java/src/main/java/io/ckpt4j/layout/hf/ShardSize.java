package io.ckpt4j.layout.hf;

import io.ckpt4j.CheckpointException;
import io.ckpt4j.CheckpointException.Kind;
import java.math.BigInteger;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * A maximum shard size, read as transformers' {@code convert_file_size_to_int} reads
 * {@code max_shard_size}: digits followed by a unit, {@code "5GB"} = 5 × 10^9 bytes,
 * {@code "5GiB"} = 5 × 2^30; KB, MB, GB are powers of 1000 and KiB, MiB, GiB powers of 1024
 * (units in any case); a unit ending in a lowercase {@code b} ({@code "5Gb"}, {@code "5gb"}) counts
 * bits, so the bytes are an eighth of it, rounded down. The number is what Python's {@code int()}
 * takes: surrounding blanks, a sign, {@code _} between digits. A plain number of bytes is a
 * {@code long} ({@link #bytes(long)}); as a string transformers refuses it, and so does this.
 *
 * <p>Unlike Python, a size below 1 byte is refused (transformers would put every tensor in a
 * shard of its own).
 */
public final class ShardSize {
  /** save_pretrained's default {@code max_shard_size}. */
  public static final String DEFAULT = "5GB";

  private static final long KILO = 1000L;
  private static final long KIBI = 1024L;
  private static final int BITS_PER_BYTE = 8;
  /** What Python's int() accepts, less the non-ASCII digits no size is written with. */
  private static final Pattern PYTHON_INT = Pattern.compile("[+-]?\\d+(_\\d+)*");
  private static final String[] BINARY_UNITS = {"KIB", "MIB", "GIB"};
  private static final String[] DECIMAL_UNITS = {"KB", "MB", "GB"};

  private ShardSize() {}

  /** {@code max_shard_size="5GB"} and the like, in bytes. */
  public static long parse(String size) throws CheckpointException {
    String upper = size.toUpperCase(Locale.ROOT);
    for (int i = BINARY_UNITS.length - 1; i >= 0; i--) {
      if (upper.endsWith(BINARY_UNITS[i])) {
        String digits = size.substring(0, size.length() - BINARY_UNITS[i].length());
        return bytes(number(digits, size).multiply(BigInteger.valueOf(KIBI).pow(i + 1)), size);
      }
    }
    for (int i = DECIMAL_UNITS.length - 1; i >= 0; i--) {
      if (upper.endsWith(DECIMAL_UNITS[i])) {
        String digits = size.substring(0, size.length() - DECIMAL_UNITS[i].length());
        BigInteger n = number(digits, size).multiply(BigInteger.valueOf(KILO).pow(i + 1));
        if (size.endsWith("b")) n = floorDiv(n, BigInteger.valueOf(BITS_PER_BYTE));
        return bytes(n, size);
      }
    }
    throw new CheckpointException(Kind.INVALID_VALUE,
        "max shard size '" + size + "' has no unit: write digits and"
        + " a unit, e.g. '5GB' (10^9 bytes) or '5GiB' (2^30), or give a number of bytes");
  }

  /** A plain number of bytes, checked to be at least 1. */
  public static long bytes(long bytes) throws CheckpointException {
    return bytes(BigInteger.valueOf(bytes), Long.toString(bytes));
  }

  private static long bytes(BigInteger n, String size) throws CheckpointException {
    if (n.signum() <= 0) {
      throw new CheckpointException(Kind.INVALID_VALUE,
          "max shard size " + size + " is " + n + " bytes: a shard"
          + " must be allowed at least 1 byte");
    }
    if (n.bitLength() >= Long.SIZE) {
      throw new CheckpointException(Kind.INVALID_VALUE,
          "max shard size " + size + " is " + n + " bytes, more than"
          + " a file can hold");
    }
    return n.longValueExact();
  }

  private static BigInteger number(String digits, String size) throws CheckpointException {
    String s = digits.strip();
    if (!PYTHON_INT.matcher(s).matches()) {
      throw new CheckpointException(Kind.INVALID_VALUE,
          "max shard size '" + size + "' is not a whole number"
          + " followed by a unit (transformers reads it with int()): write e.g. '5GB' or '500MiB'");
    }
    return new BigInteger(s.replace("_", ""));
  }

  private static BigInteger floorDiv(BigInteger a, BigInteger b) {
    BigInteger[] qr = a.divideAndRemainder(b);
    return qr[1].signum() < 0 ? qr[0].subtract(BigInteger.ONE) : qr[0];
  }
}
