package io.ckpt4j.container.zip;

import static io.ckpt4j.container.zip.ZipFormat.*;

import io.ckpt4j.CheckpointException;
import io.ckpt4j.CheckpointException.Kind;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;

/**
 * Where the central directory is and how many entries it holds, from the end of central directory
 * record and, when present, the zip64 locator and zip64 end record.
 *
 * <p>Every value is checked against the file before it is used: the central directory must end
 * exactly where the end records begin (no prepended data, no gap where a second directory could
 * hide), and a 32-bit field that is not a zip64 sentinel must agree with its zip64 counterpart.
 *
 * @param entryCount number of central directory records
 * @param centralDirectoryOffset absolute offset of the first central directory record
 * @param centralDirectorySize size in bytes of all central directory records
 * @param comment the archive comment, raw bytes
 * @param zip64 whether zip64 end records were present
 */
record EndRecord(
    long entryCount,
    long centralDirectoryOffset,
    long centralDirectorySize,
    byte[] comment,
    boolean zip64) {

  /**
   * Reads and checks the end records of a file of {@code fileSize} bytes. A file without them is
   * no zip at all unless it {@code startsAsZip} (with a local header): then it was cut off, or
   * its end was damaged.
   */
  static EndRecord read(FileChannel channel, long fileSize, boolean startsAsZip)
      throws CheckpointException {
    if (fileSize < EOCD_SIZE) {
      throw new CheckpointException(startsAsZip ? Kind.TRUNCATED : Kind.NOT_A_CHECKPOINT,
          "not a zip archive: " + fileSize
              + " bytes is too short for an end of central directory record");
    }
    int tailLength = (int) Math.min(fileSize, (long) EOCD_SIZE + MAX_COMMENT_LENGTH);
    long tailStart = fileSize - tailLength;
    ByteBuffer tail = ChannelReads.read(channel, tailStart, tailLength, "the end of the file");
    int eocd = findEndRecord(tail, startsAsZip);
    long eocdPosition = tailStart + eocd;

    // EOCD: number of this disk, disk where the central directory starts, entries on this disk,
    // total entries, size of the central directory, offset of start of central directory.
    int disk = u16(tail, eocd + EOCD_DISK);
    int cdDisk = u16(tail, eocd + EOCD_CD_DISK);
    int diskEntries = u16(tail, eocd + EOCD_DISK_ENTRIES);
    int totalEntries = u16(tail, eocd + EOCD_TOTAL_ENTRIES);
    long cdSize = u32(tail, eocd + EOCD_CD_SIZE);
    long cdOffset = u32(tail, eocd + EOCD_CD_OFFSET);
    int commentLength = u16(tail, eocd + EOCD_COMMENT_LENGTH);
    byte[] comment = new byte[commentLength];
    tail.get(eocd + EOCD_SIZE, comment);

    long locatorPosition = eocdPosition - ZIP64_LOCATOR_SIZE;
    boolean hasLocator =
        locatorPosition >= 0 && readU32(channel, locatorPosition) == ZIP64_LOCATOR_SIGNATURE;
    if (!hasLocator) {
      if (disk != 0 || cdDisk != 0 || diskEntries != totalEntries) {
        throw multiDisk(eocdPosition);
      }
      return checked(fileSize, totalEntries, cdOffset, cdSize, eocdPosition, comment, false);
    }

    ByteBuffer locator =
        ChannelReads.read(channel, locatorPosition, ZIP64_LOCATOR_SIZE, "the zip64 locator");
    // Zip64 locator: disk with the zip64 end record, its offset, total number of disks.
    long zip64Disk = u32(locator, ZIP64_LOCATOR_EOCD_DISK);
    long zip64Offset = u64(locator, ZIP64_LOCATOR_EOCD_OFFSET);
    long totalDisks = u32(locator, ZIP64_LOCATOR_TOTAL_DISKS);
    if (zip64Disk != 0 || totalDisks > 1) {
      throw multiDisk(locatorPosition);
    }
    long expectedZip64Offset = locatorPosition - ZIP64_EOCD_SIZE;
    if (expectedZip64Offset < 0 || zip64Offset != expectedZip64Offset) {
      throw new CheckpointException(Kind.MALFORMED_CONTAINER,
          "the zip64 locator at byte " + locatorPosition
              + " points to a zip64 end record at byte " + Long.toUnsignedString(zip64Offset)
              + ", but it must sit right before the locator at byte " + expectedZip64Offset
              + ": corrupt or tampered zip64 records");
    }
    ByteBuffer record =
        ChannelReads.read(channel, zip64Offset, ZIP64_EOCD_SIZE, "the zip64 end record");
    if (record.getInt(0) != ZIP64_EOCD_SIGNATURE) {
      throw new CheckpointException(Kind.MALFORMED_CONTAINER,
          "no zip64 end of central directory record at byte " + zip64Offset
              + " where the zip64 locator points: corrupt zip64 records");
    }
    // Zip64 EOCD: size of the record after its first 12 bytes; 44 means no extensible data.
    long recordSize = u64(record, ZIP64_EOCD_RECORD_SIZE);
    if (recordSize != ZIP64_EOCD_SIZE - ZIP64_EOCD_LEADING_BYTES) {
      throw new CheckpointException(Kind.UNSUPPORTED_FORMAT,
          "zip64 end record at byte " + zip64Offset + " declares size "
              + Long.toUnsignedString(recordSize) + ", expected "
              + (ZIP64_EOCD_SIZE - ZIP64_EOCD_LEADING_BYTES)
              + ": extensible zip64 data is not supported");
    }
    long disk64 = u32(record, ZIP64_EOCD_DISK);
    long cdDisk64 = u32(record, ZIP64_EOCD_CD_DISK);
    long diskEntries64 = u64(record, ZIP64_EOCD_DISK_ENTRIES);
    long totalEntries64 = u64(record, ZIP64_EOCD_TOTAL_ENTRIES);
    long cdSize64 = u64(record, ZIP64_EOCD_CD_SIZE);
    long cdOffset64 = u64(record, ZIP64_EOCD_CD_OFFSET);
    if (disk64 != 0 || cdDisk64 != 0 || diskEntries64 != totalEntries64) {
      throw multiDisk(zip64Offset);
    }
    if (totalEntries64 < 0 || cdSize64 < 0 || cdOffset64 < 0) {
      throw new CheckpointException(Kind.MALFORMED_CONTAINER,
          "zip64 end record at byte " + zip64Offset
              + " holds a count, size or offset above 2^63: corrupt zip64 records");
    }
    agree("entry count", totalEntries, U16_SENTINEL, totalEntries64, eocdPosition);
    agree("central directory size", cdSize, U32_SENTINEL, cdSize64, eocdPosition);
    agree("central directory offset", cdOffset, U32_SENTINEL, cdOffset64, eocdPosition);
    return checked(fileSize, totalEntries64, cdOffset64, cdSize64, zip64Offset, comment, true);
  }

  /**
   * Finds the end of central directory record in the last bytes of the file: the signature whose
   * comment length makes the record end exactly at the end of the file. A second such candidate
   * (a fake record hidden in the comment) makes the archive ambiguous and is refused.
   */
  private static int findEndRecord(ByteBuffer tail, boolean startsAsZip)
      throws CheckpointException {
    int found = -1;
    boolean endsEarly = false;
    for (int at = tail.limit() - EOCD_SIZE; at >= 0; at--) {
      if (tail.getInt(at) != EOCD_SIGNATURE) {
        continue;
      }
      int commentLength = u16(tail, at + EOCD_COMMENT_LENGTH);
      if (at + EOCD_SIZE + commentLength != tail.limit()) {
        endsEarly |= at + EOCD_SIZE + commentLength < tail.limit();
        continue;
      }
      if (found >= 0) {
        throw new ZipAnomalyException(ZipAnomaly.END_RECORDS_DISAGREE, Kind.MALFORMED_CONTAINER,
            "two end of central directory records fit the end of the file"
                + " (the later one inside the comment of the earlier): ambiguous, refusing it");
      }
      found = at;
    }
    if (found < 0) {
      // A record that ends before the end of the file has bytes after it: not a cut-off file.
      Kind kind = !startsAsZip ? Kind.NOT_A_CHECKPOINT
          : endsEarly ? Kind.MALFORMED_CONTAINER : Kind.TRUNCATED;
      throw new CheckpointException(kind,
          "not a zip archive, or a truncated one: no end of central"
              + " directory record found in the last " + tail.limit() + " bytes");
    }
    return found;
  }

  /** Checks the central directory's position against the file; returns the record. */
  private static EndRecord checked(
      long fileSize,
      long entryCount,
      long cdOffset,
      long cdSize,
      long cdEnd,
      byte[] comment,
      boolean zip64)
      throws CheckpointException {
    if (cdOffset > cdEnd || cdSize > cdEnd - cdOffset) {
      throw new CheckpointException(Kind.MALFORMED_CONTAINER,
          "central directory (offset " + cdOffset + ", size " + cdSize
              + ") runs past the end records at byte " + cdEnd + " of a " + fileSize
              + "-byte file: truncated or corrupt archive");
    }
    if (cdOffset + cdSize != cdEnd) {
      throw new CheckpointException(Kind.MALFORMED_CONTAINER,
          "central directory (offset " + cdOffset + ", size " + cdSize
              + ") ends at byte " + (cdOffset + cdSize) + ", not where the end records begin ("
              + cdEnd + "): prepended data or a hidden second directory is not supported");
    }
    // Each central record takes at least CENTRAL_HEADER_SIZE bytes.
    if (entryCount > cdSize / CENTRAL_HEADER_SIZE) {
      throw new CheckpointException(Kind.MALFORMED_CONTAINER,
          "end record claims " + entryCount + " entries, but a "
              + cdSize + "-byte central directory holds at most " + cdSize / CENTRAL_HEADER_SIZE
              + ": corrupt archive");
    }
    return new EndRecord(entryCount, cdOffset, cdSize, comment, zip64);
  }

  private static void agree(
      String field, long value32, long sentinel, long value64, long position)
      throws CheckpointException {
    if (value32 != sentinel && value32 != value64) {
      throw new ZipAnomalyException(ZipAnomaly.END_RECORDS_DISAGREE, Kind.MALFORMED_CONTAINER,
          "end record at byte " + position + " gives " + field + " "
              + value32 + " but the zip64 end record gives " + value64
              + ": conflicting records (a scanner-evasion trick), refusing the archive");
    }
  }

  private static int readU32(FileChannel channel, long position)
      throws CheckpointException {
    return ChannelReads.read(channel, position, Integer.BYTES, "a record signature").getInt(0);
  }

  private static CheckpointException multiDisk(long position) {
    return new CheckpointException(Kind.UNSUPPORTED_FORMAT,
        "end records at byte " + position
            + " describe a multi-disk (split) archive, which is not supported: join the parts"
            + " into one zip file");
  }

  /** The zip64 end of central directory record (APPNOTE 4.3.14). */
  static ByteBuffer encodeZip64(long count, long cdSize, long cdOffset) {
    ByteBuffer r = ByteBuffer.allocate(ZIP64_EOCD_SIZE).order(ByteOrder.LITTLE_ENDIAN);
    return r.putInt(ZIP64_EOCD_SIGNATURE)
        .putLong(ZIP64_EOCD_SIZE - ZIP64_EOCD_LEADING_BYTES) // size of the rest of the record
        .putShort((short) VERSION_ZIP64) // version made by
        .putShort((short) VERSION_ZIP64) // version needed
        .putInt(0) // number of this disk
        .putInt(0) // disk where the central directory starts
        .putLong(count) // entries on this disk
        .putLong(count) // total entries
        .putLong(cdSize)
        .putLong(cdOffset)
        .flip();
  }

  /** The zip64 end of central directory locator (APPNOTE 4.3.15). */
  static ByteBuffer encodeZip64Locator(long recordOffset) {
    ByteBuffer l = ByteBuffer.allocate(ZIP64_LOCATOR_SIZE).order(ByteOrder.LITTLE_ENDIAN);
    return l.putInt(ZIP64_LOCATOR_SIGNATURE)
        .putInt(0) // disk with the zip64 end record
        .putLong(recordOffset)
        .putInt(1) // total number of disks
        .flip();
  }

  /**
   * The end of central directory record (APPNOTE 4.3.16). A field that does not fit (or every
   * field, when {@code forceZip64}) holds the sentinel that points to the zip64 record.
   */
  static ByteBuffer encode(long count, long cdSize, long cdOffset, boolean forceZip64) {
    long eocdCount = forceZip64 || count >= U16_SENTINEL ? U16_SENTINEL : count;
    long eocdSize = forceZip64 || cdSize >= U32_SENTINEL ? U32_SENTINEL : cdSize;
    long eocdOffset = forceZip64 || cdOffset >= U32_SENTINEL ? U32_SENTINEL : cdOffset;
    ByteBuffer eocd = ByteBuffer.allocate(EOCD_SIZE).order(ByteOrder.LITTLE_ENDIAN);
    return eocd.putInt(EOCD_SIGNATURE)
        .putShort((short) 0) // number of this disk
        .putShort((short) 0) // disk where the central directory starts
        .putShort((short) eocdCount) // entries on this disk
        .putShort((short) eocdCount) // total entries
        .putInt((int) eocdSize)
        .putInt((int) eocdOffset)
        .putShort((short) 0) // comment length
        .flip();
  }
}
