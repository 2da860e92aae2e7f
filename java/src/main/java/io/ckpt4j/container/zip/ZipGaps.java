package io.ckpt4j.container.zip;

import io.ckpt4j.CheckpointException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * The bytes of an archive that no central record accounts for, searched for local headers: a
 * reader that walks local headers (as some scanners do) sees an entry there that torch, which
 * reads through the central directory, never opens.
 */
public final class ZipGaps {
  /** Of a larger gap only this many bytes are searched (a hidden header sits near its start). */
  static final int MAX_SEARCHED = 1 << 16;

  private ZipGaps() {}

  /**
   * File offsets (from the archive's start) of local header signatures in the gaps before,
   * between and after the entries' headers and data.
   */
  public static List<Long> hiddenLocalHeaders(ZipArchive zip) throws CheckpointException {
    List<ZipEntry> byOffset = new ArrayList<>(zip.entries());
    byOffset.sort(Comparator.comparingLong(ZipEntry::localHeaderOffset));
    List<Long> found = new ArrayList<>();
    long at = 0;
    for (ZipEntry e : byOffset) {
      search(zip, at, e.localHeaderOffset(), found);
      at = Math.max(at, e.dataEnd());
    }
    return found;
  }

  private static void search(ZipArchive zip, long from, long to, List<Long> found)
      throws CheckpointException {
    long length = Math.min(to - from, MAX_SEARCHED);
    if (length < Integer.BYTES) return;
    ByteBuffer gap = ChannelReads.read(zip.channel(), from,
        (int) length, "the bytes between entries").order(ByteOrder.LITTLE_ENDIAN);
    for (int i = 0; i + Integer.BYTES <= gap.limit(); i++) {
      if (gap.getInt(i) == ZipFormat.LOCAL_HEADER_SIGNATURE) found.add(from + i);
    }
  }
}
