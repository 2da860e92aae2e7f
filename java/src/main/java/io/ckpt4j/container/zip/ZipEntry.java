package io.ckpt4j.container.zip;

/**
 * One member of a {@link ZipArchive}, as its central directory record and local header describe
 * it after both were checked against each other and against the file.
 *
 * @param name the entry's full name, e.g. {@code archive/data/0}
 * @param method compression method: {@link #STORED} or {@link #DEFLATED} (others are refused when
 *     the entry is read)
 * @param flags general purpose bit flags from the central directory
 * @param compressedSize size in bytes of the entry's data in the file
 * @param size uncompressed size in bytes
 * @param crc32 CRC-32 of the uncompressed bytes, as declared (an unsigned 32-bit value)
 * @param localHeaderOffset absolute file offset of the entry's local header
 * @param dataOffset absolute file offset of the entry's first data byte
 */
public record ZipEntry(
    String name,
    int method,
    int flags,
    long compressedSize,
    long size,
    long crc32,
    long localHeaderOffset,
    long dataOffset) {

  /** Compression method 0: the bytes are stored as they are. */
  public static final int STORED = ZipFormat.METHOD_STORED;

  /** Compression method 8: raw deflate. */
  public static final int DEFLATED = ZipFormat.METHOD_DEFLATED;

  /** Whether the data is stored uncompressed, so it can be read or mapped in place at {@link #dataOffset}. */
  public boolean isStored() {
    return method == STORED;
  }

  /**
   * General-purpose flag bits other than those torch.save and common writers set (UTF-8 names,
   * a data descriptor, and the deflate speed bits of a deflated entry); 0 for a plain entry.
   */
  public int unusualFlags() {
    int usual = ZipFormat.FLAG_UTF8 | ZipFormat.FLAG_DATA_DESCRIPTOR
        | (method == DEFLATED ? ZipFormat.FLAG_DEFLATE_OPTIONS : 0);
    return flags & ~usual;
  }

  /** Absolute file offset one past the entry's last data byte. */
  public long dataEnd() {
    return dataOffset + compressedSize;
  }
}
