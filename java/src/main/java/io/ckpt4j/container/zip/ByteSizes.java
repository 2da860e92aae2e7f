package io.ckpt4j.container.zip;

import java.util.Locale;

/** Byte counts for messages: "812 bytes", "2 GiB", "3.2 GiB (3435973837 bytes)". */
final class ByteSizes {
  private static final String[] UNITS = {"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
  private static final int UNIT_SHIFT = 10;

  private ByteSizes() {}

  static String format(long bytes) {
    if (bytes < (1L << UNIT_SHIFT)) {
      return bytes + (bytes == 1 ? " byte" : " bytes");
    }
    int unit = 0;
    while (unit + 1 < UNITS.length && bytes >= 1L << (UNIT_SHIFT * (unit + 2))) {
      unit++;
    }
    long scale = 1L << (UNIT_SHIFT * (unit + 1));
    if (bytes % scale == 0) {
      return bytes / scale + " " + UNITS[unit];
    }
    // Rounded values carry the exact count, so "2 GiB" is never shown as more than "2.0 GiB".
    return String.format(
        Locale.ROOT, "%.1f %s (%d bytes)", (double) bytes / scale, UNITS[unit], bytes);
  }
}
