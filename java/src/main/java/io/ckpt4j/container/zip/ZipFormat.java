package io.ckpt4j.container.zip;

import java.nio.ByteBuffer;

/**
 * Numbers from the zip specification (PKWARE APPNOTE.TXT 6.3.x) that the reader and the writer
 * share: record signatures, fixed record sizes, field offsets, flag bits and sentinel values.
 */
final class ZipFormat {
  private ZipFormat() {}

  // ---- Signatures (little-endian u32 at the start of each record). ----
  /** "PK\3\4": local file header. */
  static final int LOCAL_HEADER_SIGNATURE = 0x04034b50;
  /** "PK\1\2": central directory file header. */
  static final int CENTRAL_HEADER_SIGNATURE = 0x02014b50;
  /** "PK\5\6": end of central directory record. */
  static final int EOCD_SIGNATURE = 0x06054b50;
  /** "PK\6\6": zip64 end of central directory record. */
  static final int ZIP64_EOCD_SIGNATURE = 0x06064b50;
  /** "PK\6\7": zip64 end of central directory locator. */
  static final int ZIP64_LOCATOR_SIGNATURE = 0x07064b50;
  /** "PK00": marker at the start of a split archive that turned out to need one segment. */
  static final int SPLIT_MARKER_SIGNATURE = 0x30304b50;
  /** "PK\7\10": marker at the start of a split (multi-segment) archive. */
  static final int SPANNED_MARKER_SIGNATURE = 0x08074b50;

  // ---- Local file header (APPNOTE 4.3.7), 30 bytes before the name. ----
  static final int LOCAL_HEADER_SIZE = 30;
  static final int LOCAL_VERSION_NEEDED = 4;
  static final int LOCAL_FLAGS = 6;
  static final int LOCAL_METHOD = 8;
  static final int LOCAL_TIME = 10;
  static final int LOCAL_DATE = 12;
  static final int LOCAL_CRC = 14;
  static final int LOCAL_COMPRESSED_SIZE = 18;
  static final int LOCAL_SIZE = 22;
  static final int LOCAL_NAME_LENGTH = 26;
  static final int LOCAL_EXTRA_LENGTH = 28;

  // ---- Central directory file header (APPNOTE 4.3.12), 46 bytes before the name. ----
  static final int CENTRAL_HEADER_SIZE = 46;
  static final int CENTRAL_VERSION_MADE_BY = 4;
  static final int CENTRAL_VERSION_NEEDED = 6;
  static final int CENTRAL_FLAGS = 8;
  static final int CENTRAL_METHOD = 10;
  static final int CENTRAL_TIME = 12;
  static final int CENTRAL_DATE = 14;
  static final int CENTRAL_CRC = 16;
  static final int CENTRAL_COMPRESSED_SIZE = 20;
  static final int CENTRAL_SIZE = 24;
  static final int CENTRAL_NAME_LENGTH = 28;
  static final int CENTRAL_EXTRA_LENGTH = 30;
  static final int CENTRAL_COMMENT_LENGTH = 32;
  static final int CENTRAL_DISK_START = 34;
  static final int CENTRAL_INTERNAL_ATTRIBUTES = 36;
  static final int CENTRAL_EXTERNAL_ATTRIBUTES = 38;
  static final int CENTRAL_LOCAL_HEADER_OFFSET = 42;

  // ---- End of central directory record (APPNOTE 4.3.16), 22 bytes before the comment. ----
  static final int EOCD_SIZE = 22;
  static final int EOCD_DISK = 4;
  static final int EOCD_CD_DISK = 6;
  static final int EOCD_DISK_ENTRIES = 8;
  static final int EOCD_TOTAL_ENTRIES = 10;
  static final int EOCD_CD_SIZE = 12;
  static final int EOCD_CD_OFFSET = 16;
  static final int EOCD_COMMENT_LENGTH = 20;
  /** The comment length is a u16, so the record starts at most this far from the end. */
  static final int MAX_COMMENT_LENGTH = 0xFFFF;

  // ---- Zip64 end of central directory locator (APPNOTE 4.3.15), 20 bytes. ----
  static final int ZIP64_LOCATOR_SIZE = 20;
  static final int ZIP64_LOCATOR_EOCD_DISK = 4;
  static final int ZIP64_LOCATOR_EOCD_OFFSET = 8;
  static final int ZIP64_LOCATOR_TOTAL_DISKS = 16;

  // ---- Zip64 end of central directory record (APPNOTE 4.3.14), version 1: 56 bytes. ----
  static final int ZIP64_EOCD_SIZE = 56;
  /** The record's own size field counts the bytes after the first 12. */
  static final int ZIP64_EOCD_LEADING_BYTES = 12;
  static final int ZIP64_EOCD_RECORD_SIZE = 4;
  static final int ZIP64_EOCD_VERSION_MADE_BY = 12;
  static final int ZIP64_EOCD_VERSION_NEEDED = 14;
  static final int ZIP64_EOCD_DISK = 16;
  static final int ZIP64_EOCD_CD_DISK = 20;
  static final int ZIP64_EOCD_DISK_ENTRIES = 24;
  static final int ZIP64_EOCD_TOTAL_ENTRIES = 32;
  static final int ZIP64_EOCD_CD_SIZE = 40;
  static final int ZIP64_EOCD_CD_OFFSET = 48;

  // ---- Extra fields (APPNOTE 4.5): a u16 id and a u16 data length, then the data. ----
  static final int EXTRA_HEADER_SIZE = 4;
  /** Zip64 extended information extra field (APPNOTE 4.5.3). */
  static final int ZIP64_EXTRA_ID = 0x0001;
  /**
   * PyTorch's alignment padding field: the bytes 'F','B' (read as a little-endian u16) followed by
   * a u16 length and that many 'Z' bytes, see caffe2/serialize/inline_container.cc getPadding.
   */
  static final int TORCH_PADDING_EXTRA_ID = 'F' | ('B' << 8);
  static final byte TORCH_PADDING_BYTE = 'Z';

  // ---- General purpose bit flags (APPNOTE 4.4.4). ----
  static final int FLAG_ENCRYPTED = 1;
  static final int FLAG_DATA_DESCRIPTOR = 1 << 3;
  static final int FLAG_STRONG_ENCRYPTION = 1 << 6;
  static final int FLAG_UTF8 = 1 << 11;
  /** Bits 1 and 2: the deflate compression level a writer chose. */
  static final int FLAG_DEFLATE_OPTIONS = (1 << 1) | (1 << 2);
  static final int FLAG_MASKED_LOCAL_HEADERS = 1 << 13;

  // ---- Compression methods (APPNOTE 4.4.5). ----
  static final int METHOD_STORED = 0;
  static final int METHOD_DEFLATED = 8;

  // ---- Versions (APPNOTE 4.4.3): 2.0 for plain files, 4.5 for zip64. ----
  static final int VERSION_DEFAULT = 20;
  static final int VERSION_ZIP64 = 45;

  /** A u32 field with this value means "the real value is in the zip64 extra field". */
  static final long U32_SENTINEL = 0xFFFF_FFFFL;
  /** A u16 field with this value means "the real value is in a zip64 record". */
  static final int U16_SENTINEL = 0xFFFF;

  /** Reads the little-endian u16 at {@code index} of {@code b}. */
  static int u16(ByteBuffer b, int index) {
    return Short.toUnsignedInt(b.getShort(index));
  }

  /** Reads the little-endian u32 at {@code index} of {@code b}. */
  static long u32(ByteBuffer b, int index) {
    return Integer.toUnsignedLong(b.getInt(index));
  }

  /** Reads the little-endian u64 at {@code index} of {@code b}; may be negative if the top bit is set. */
  static long u64(ByteBuffer b, int index) {
    return b.getLong(index);
  }

  // ---- What the writer stamps on every record. ----
  /** DOS date 1980-01-01 (day 1, month 1, year 0): a fixed stamp keeps output reproducible. */
  static final int DOS_DATE_1980_01_01 = (1 << 5) | 1;
  /** DOS time 00:00:00. */
  static final int DOS_TIME_MIDNIGHT = 0;
  /** Bytes of a zip64 extra field holding both sizes, as a local header carries it. */
  static final int LOCAL_ZIP64_EXTRA_SIZE = EXTRA_HEADER_SIZE + 2 * Long.BYTES;
}
