package io.ckpt4j.container.zip;

import static io.ckpt4j.container.zip.ZipFormat.*;

import io.ckpt4j.CheckpointException;
import io.ckpt4j.CheckpointException.Kind;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.Charset;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Parses the central directory: one {@link Record} per file header, each checked to lie wholly
 * inside the directory, with its zip64 extra field applied to exactly the fields that carry the
 * zip64 sentinel.
 */
final class CentralDirectory {
  /**
   * The most central directory bytes read into memory. Torch checkpoints use about 100 bytes per
   * tensor, so this allows millions of entries while bounding what a forged size can allocate.
   */
  static final long MAX_CENTRAL_DIRECTORY_BYTES = 256L << 20;

  /** Names in zips without the UTF-8 flag are IBM code page 437 (APPNOTE appendix D). */
  private static final String LEGACY_NAME_CHARSET = "IBM437";

  private CentralDirectory() {}

  /**
   * A central directory file header after the checks that need only the directory itself.
   *
   * @param index position in the directory, from 0
   * @param position absolute file offset of the record
   */
  record Record(
      int index,
      long position,
      String name,
      byte[] nameBytes,
      int flags,
      int method,
      long crc32,
      long compressedSize,
      long size,
      long localHeaderOffset) {}

  /** Parses {@code directory}, the whole central directory read from {@code end}'s range. */
  static List<Record> parse(ByteBuffer directory, EndRecord end)
      throws CheckpointException {
    long base = end.centralDirectoryOffset();
    int count = Math.toIntExact(end.entryCount()); // <= size / 46, so it fits an int
    List<Record> records = new ArrayList<>(count);
    int at = 0;
    for (int index = 0; index < count; index++) {
      records.add(parseRecord(directory, at, index, base));
      at = Math.addExact(at, recordLength(directory, at));
    }
    if (at != directory.limit()) {
      throw new ZipAnomalyException(ZipAnomaly.UNACCOUNTED_BYTES, Kind.MALFORMED_CONTAINER,
          "central directory has " + (directory.limit() - at)
              + " unaccounted bytes after its " + count + " records at byte " + (base + at)
              + ": corrupt archive or hidden entries");
    }
    return records;
  }

  private static int recordLength(ByteBuffer directory, int at) {
    return CENTRAL_HEADER_SIZE
        + u16(directory, at + CENTRAL_NAME_LENGTH)
        + u16(directory, at + CENTRAL_EXTRA_LENGTH)
        + u16(directory, at + CENTRAL_COMMENT_LENGTH);
  }

  private static Record parseRecord(ByteBuffer d, int at, int index, long base)
      throws CheckpointException {
    long position = base + at;
    String where = "central directory record " + index + " at byte " + position;
    if (d.limit() - at < CENTRAL_HEADER_SIZE) {
      throw new CheckpointException(Kind.MALFORMED_CONTAINER,
          where + " is cut off by the end of the central directory"
              + " (the end record's entry count is too large): corrupt archive");
    }
    if (d.getInt(at) != CENTRAL_HEADER_SIGNATURE) {
      throw new CheckpointException(Kind.MALFORMED_CONTAINER,
          where + " does not start with the central header"
              + " signature PK\\1\\2: corrupt archive");
    }
    int flags = u16(d, at + CENTRAL_FLAGS);
    int method = u16(d, at + CENTRAL_METHOD);
    long crc32 = u32(d, at + CENTRAL_CRC);
    long compressedSize = u32(d, at + CENTRAL_COMPRESSED_SIZE);
    long size = u32(d, at + CENTRAL_SIZE);
    int nameLength = u16(d, at + CENTRAL_NAME_LENGTH);
    int extraLength = u16(d, at + CENTRAL_EXTRA_LENGTH);
    int commentLength = u16(d, at + CENTRAL_COMMENT_LENGTH);
    int diskStart = u16(d, at + CENTRAL_DISK_START);
    long localHeaderOffset = u32(d, at + CENTRAL_LOCAL_HEADER_OFFSET);

    int variable = nameLength + extraLength + commentLength; // three u16: no overflow
    if (variable > d.limit() - at - CENTRAL_HEADER_SIZE) {
      throw new CheckpointException(Kind.MALFORMED_CONTAINER,
          where + " has name, extra and comment lengths ("
              + nameLength + ", " + extraLength + ", " + commentLength
              + ") that run past the end of the central directory: corrupt archive");
    }
    if ((flags & (FLAG_ENCRYPTED | FLAG_STRONG_ENCRYPTION | FLAG_MASKED_LOCAL_HEADERS)) != 0) {
      throw new ZipAnomalyException(ZipAnomaly.ENCRYPTED, Kind.UNSUPPORTED_FORMAT,
          where + " is encrypted (flags 0x"
              + Integer.toHexString(flags) + "): encrypted zip entries are not supported");
    }
    byte[] nameBytes = new byte[nameLength];
    d.get(at + CENTRAL_HEADER_SIZE, nameBytes);
    String name = decodeName(nameBytes, flags, where);

    int extraStart = at + CENTRAL_HEADER_SIZE + nameLength;
    Zip64Fields z = new Zip64Fields(size, compressedSize, localHeaderOffset, diskStart);
    applyZip64Extra(d, extraStart, extraLength, z, where + " (" + name + ")");
    if (z.diskStart != 0) {
      throw new CheckpointException(Kind.UNSUPPORTED_FORMAT,
          where + " (" + name + ") starts on disk " + z.diskStart
              + ": multi-disk (split) archives are not supported");
    }
    return new Record(
        index, position, name, nameBytes, flags, method, crc32, z.compressedSize, z.size,
        z.localHeaderOffset);
  }

  /** The four fields that the zip64 extra field can replace. */
  private static final class Zip64Fields {
    long size;
    long compressedSize;
    long localHeaderOffset;
    long diskStart;

    Zip64Fields(long size, long compressedSize, long localHeaderOffset, int diskStart) {
      this.size = size;
      this.compressedSize = compressedSize;
      this.localHeaderOffset = localHeaderOffset;
      this.diskStart = diskStart;
    }

    boolean any() {
      return size == U32_SENTINEL
          || compressedSize == U32_SENTINEL
          || localHeaderOffset == U32_SENTINEL
          || diskStart == U16_SENTINEL;
    }
  }

  /**
   * Walks the extra fields of a central record; in the zip64 field (APPNOTE 4.5.3) reads, in
   * order, the uncompressed size, compressed size, local header offset and disk number, each only
   * if the header's own field holds the sentinel.
   */
  private static void applyZip64Extra(
      ByteBuffer d, int start, int length, Zip64Fields z, String where)
      throws CheckpointException {
    boolean needed = z.any();
    boolean seen = false;
    int at = start;
    int end = start + length;
    // Like Python's zipfile, fewer than 4 trailing bytes are ignored padding.
    while (end - at >= EXTRA_HEADER_SIZE) {
      int id = u16(d, at);
      int dataLength = u16(d, at + 2);
      int dataStart = at + EXTRA_HEADER_SIZE;
      if (dataLength > end - dataStart) {
        throw new CheckpointException(Kind.MALFORMED_CONTAINER,
            where + " has an extra field 0x" + Integer.toHexString(id)
                + " of " + dataLength + " bytes that runs past its extra data: corrupt archive");
      }
      if (id == ZIP64_EXTRA_ID) {
        if (seen) {
          throw new CheckpointException(Kind.MALFORMED_CONTAINER,
              where + " has two zip64 extra fields: corrupt archive");
        }
        seen = true;
        if (needed) {
          readZip64(d, dataStart, dataLength, z, where);
        }
      }
      at = dataStart + dataLength;
    }
    if (needed && !seen) {
      throw new CheckpointException(Kind.MALFORMED_CONTAINER,
          where + " has a size or offset of 0xFFFFFFFF but no zip64"
              + " extra field: corrupt archive");
    }
  }

  private static void readZip64(
      ByteBuffer d, int start, int length, Zip64Fields z, String where)
      throws CheckpointException {
    int at = start;
    int end = start + length;
    if (z.size == U32_SENTINEL) {
      z.size = zip64Value(d, at, end, "uncompressed size", where);
      at += Long.BYTES;
    }
    if (z.compressedSize == U32_SENTINEL) {
      z.compressedSize = zip64Value(d, at, end, "compressed size", where);
      at += Long.BYTES;
    }
    if (z.localHeaderOffset == U32_SENTINEL) {
      z.localHeaderOffset = zip64Value(d, at, end, "local header offset", where);
      at += Long.BYTES;
    }
    if (z.diskStart == U16_SENTINEL) {
      if (end - at < Integer.BYTES) {
        throw zip64TooShort("disk number", where);
      }
      z.diskStart = u32(d, at);
    }
  }

  private static long zip64Value(
      ByteBuffer d, int at, int end, String field, String where)
      throws CheckpointException {
    if (end - at < Long.BYTES) {
      throw zip64TooShort(field, where);
    }
    long value = u64(d, at);
    if (value < 0) {
      throw new CheckpointException(Kind.MALFORMED_CONTAINER,
          where + " has a zip64 " + field + " of "
              + Long.toUnsignedString(value) + ", above 2^63: corrupt archive");
    }
    return value;
  }

  private static CheckpointException zip64TooShort(String field, String where) {
    return new CheckpointException(Kind.MALFORMED_CONTAINER,
        where + " has a zip64 extra field too short to hold its "
            + field + ": corrupt archive");
  }

  private static String decodeName(byte[] bytes, int flags, String where)
      throws CheckpointException {
    boolean ascii = true;
    for (byte b : bytes) {
      ascii &= b >= 0;
    }
    if (ascii) {
      return new String(bytes, StandardCharsets.US_ASCII);
    }
    Charset charset =
        (flags & FLAG_UTF8) != 0 || !Charset.isSupported(LEGACY_NAME_CHARSET)
            ? StandardCharsets.UTF_8
            : Charset.forName(LEGACY_NAME_CHARSET);
    try {
      CharBuffer chars =
          charset
              .newDecoder()
              .onMalformedInput(CodingErrorAction.REPORT)
              .onUnmappableCharacter(CodingErrorAction.REPORT)
              .decode(ByteBuffer.wrap(bytes));
      return chars.toString();
    } catch (CharacterCodingException e) {
      throw new CheckpointException(Kind.MALFORMED_CONTAINER,
          where + " has a name that is not valid " + charset.name()
              + ": corrupt archive", e);
    }
  }

  /**
   * The central directory header of a stored entry already written; zip64 fields for what does
   * not fit 32 bits, or for everything when {@code forceZip64}.
   */
  static ByteBuffer encode(ZipEntry e, byte[] nameBytes, int flags, boolean forceZip64) {
    boolean zip64Size = forceZip64 || e.size() >= U32_SENTINEL;
    boolean zip64Offset = forceZip64 || e.localHeaderOffset() >= U32_SENTINEL;
    int zip64Fields = (zip64Size ? 2 : 0) + (zip64Offset ? 1 : 0);
    int extraLength = zip64Fields == 0 ? 0 : EXTRA_HEADER_SIZE + zip64Fields * Long.BYTES;
    int version = zip64Fields == 0 ? VERSION_DEFAULT : VERSION_ZIP64;
    ByteBuffer h =
        ByteBuffer.allocate(CENTRAL_HEADER_SIZE + nameBytes.length + extraLength)
            .order(ByteOrder.LITTLE_ENDIAN);
    long size32 = zip64Size ? U32_SENTINEL : e.size();
    long offset32 = zip64Offset ? U32_SENTINEL : e.localHeaderOffset();
    h.putInt(CENTRAL_HEADER_SIGNATURE)
        .putShort((short) version) // version made by (MS-DOS host)
        .putShort((short) version) // version needed to extract
        .putShort((short) flags)
        .putShort((short) METHOD_STORED)
        .putShort((short) DOS_TIME_MIDNIGHT)
        .putShort((short) DOS_DATE_1980_01_01)
        .putInt((int) e.crc32())
        .putInt((int) size32) // compressed size
        .putInt((int) size32) // uncompressed size
        .putShort((short) nameBytes.length)
        .putShort((short) extraLength)
        .putShort((short) 0) // comment length
        .putShort((short) 0) // disk number start
        .putShort((short) 0) // internal attributes
        .putInt(0) // external attributes
        .putInt((int) offset32)
        .put(nameBytes);
    if (zip64Fields > 0) {
      // APPNOTE 4.5.3: only the fields whose header value is the sentinel, in this order.
      h.putShort((short) ZIP64_EXTRA_ID).putShort((short) (zip64Fields * Long.BYTES));
      if (zip64Size) {
        h.putLong(e.size()).putLong(e.compressedSize());
      }
      if (zip64Offset) {
        h.putLong(e.localHeaderOffset());
      }
    }
    return h.flip();
  }
}
