package io.ckpt4j.container.zip;

import static io.ckpt4j.container.zip.ZipFormat.*;

import io.ckpt4j.CheckpointException;
import io.ckpt4j.CheckpointException.Kind;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;

/**
 * Reads each entry's local header to find where its data starts, and checks the header against
 * the central directory: same name, method and encryption, the same CRC and sizes unless a data
 * descriptor or zip64 defers them, and data that lies before the central directory without
 * overlapping another entry.
 */
final class LocalHeader {
  private LocalHeader() {}

  /** Builds the entries of an archive from its central records; reads only local headers. */
  static List<ZipEntry> resolve(
      FileChannel channel, List<CentralDirectory.Record> records, long cdOffset)
      throws CheckpointException {
    List<ZipEntry> entries = new ArrayList<>(records.size());
    for (CentralDirectory.Record r : records) {
      entries.add(resolve(channel, r, cdOffset));
    }
    checkNoOverlap(entries);
    return entries;
  }

  private static ZipEntry resolve(
      FileChannel channel, CentralDirectory.Record r, long cdOffset)
      throws CheckpointException {
    String where = "entry " + r.name() + " (local header at byte " + r.localHeaderOffset() + ")";
    long headerEnd = Math.addExact(r.localHeaderOffset(), LOCAL_HEADER_SIZE + r.nameBytes().length);
    if (headerEnd > cdOffset) {
      throw new CheckpointException(Kind.MALFORMED_CONTAINER,
          where + " does not fit before the central directory at byte "
              + cdOffset + ": corrupt archive");
    }
    ByteBuffer h =
        ChannelReads.read(
            channel, r.localHeaderOffset(), LOCAL_HEADER_SIZE + r.nameBytes().length,
            "the local header of " + r.name());
    if (h.getInt(0) != LOCAL_HEADER_SIGNATURE) {
      throw new CheckpointException(Kind.MALFORMED_CONTAINER,
          where + " does not start with the local header signature"
              + " PK\\3\\4: corrupt archive");
    }
    int flags = u16(h, LOCAL_FLAGS);
    int method = u16(h, LOCAL_METHOD);
    long crc32 = u32(h, LOCAL_CRC);
    long compressedSize = u32(h, LOCAL_COMPRESSED_SIZE);
    long size = u32(h, LOCAL_SIZE);
    int nameLength = u16(h, LOCAL_NAME_LENGTH);
    int extraLength = u16(h, LOCAL_EXTRA_LENGTH);

    byte[] localName = new byte[Math.min(nameLength, r.nameBytes().length)];
    h.get(LOCAL_HEADER_SIZE, localName);
    if (nameLength != r.nameBytes().length || !Arrays.equals(localName, r.nameBytes())) {
      throw new ZipAnomalyException(ZipAnomaly.NAME_MISMATCH, Kind.MALFORMED_CONTAINER,
          where + " names a different file than its central record"
              + " (a scanner-evasion trick): refusing the archive");
    }
    if ((flags & (FLAG_ENCRYPTED | FLAG_STRONG_ENCRYPTION)) != 0) {
      throw new ZipAnomalyException(ZipAnomaly.ENCRYPTED, Kind.UNSUPPORTED_FORMAT,
          where + " is encrypted: encrypted zip entries are not"
              + " supported");
    }
    if (method != r.method()) {
      throw mismatch(where, "compression method", method, r.method());
    }
    if ((flags & FLAG_DATA_DESCRIPTOR) == 0) {
      // Without a data descriptor the local header carries the real values; zip64 puts the
      // sizes in its extra field and leaves the sentinel here.
      if (crc32 != r.crc32()) {
        throw mismatch(where, "CRC-32", crc32, r.crc32());
      }
      if (compressedSize != U32_SENTINEL && compressedSize != r.compressedSize()) {
        throw mismatch(where, "compressed size", compressedSize, r.compressedSize());
      }
      if (size != U32_SENTINEL && size != r.size()) {
        throw mismatch(where, "size", size, r.size());
      }
    }
    long dataOffset = headerEnd + extraLength;
    if (dataOffset > cdOffset || r.compressedSize() > cdOffset - dataOffset) {
      throw new CheckpointException(Kind.MALFORMED_CONTAINER,
          where + " has " + r.compressedSize() + " bytes of data at"
              + " byte " + dataOffset + ", running into the central directory at byte " + cdOffset
              + ": truncated or corrupt archive");
    }
    if (r.method() == METHOD_STORED && r.compressedSize() != r.size()) {
      throw new CheckpointException(Kind.MALFORMED_CONTAINER,
          "stored " + where + " has compressed size " + r.compressedSize()
              + " but size " + r.size() + ": corrupt archive");
    }
    return new ZipEntry(
        r.name(), r.method(), r.flags(), r.compressedSize(), r.size(), r.crc32(),
        r.localHeaderOffset(), dataOffset);
  }

  /** No entry's header or data may share bytes with another's (overlapping-entry zip bombs). */
  private static void checkNoOverlap(List<ZipEntry> entries) throws CheckpointException {
    List<ZipEntry> byOffset = new ArrayList<>(entries);
    byOffset.sort(Comparator.comparingLong(ZipEntry::localHeaderOffset));
    for (int i = 1; i < byOffset.size(); i++) {
      ZipEntry previous = byOffset.get(i - 1);
      ZipEntry next = byOffset.get(i);
      if (next.localHeaderOffset() < previous.dataEnd()) {
        throw new ZipAnomalyException(ZipAnomaly.OVERLAP, Kind.MALFORMED_CONTAINER,
            "entries " + previous.name() + " (bytes "
                + previous.localHeaderOffset() + " to " + previous.dataEnd() + ") and "
                + next.name() + " (from byte " + next.localHeaderOffset()
                + ") overlap: corrupt or malicious archive");
      }
    }
  }

  private static CheckpointException mismatch(
      String where, String field, long local, long central) {
    return new ZipAnomalyException(ZipAnomaly.HEADER_MISMATCH, Kind.MALFORMED_CONTAINER,
        where + " gives " + field + " " + local
            + " but its central record gives " + central + ": corrupt or tampered archive");
  }

  /**
   * A local header for a stored entry at {@code headerOffset}: zip64 sizes if asked, and torch's
   * padding extra field so the data starts at a multiple of {@code alignment}. The CRC-32 is 0, to
   * be patched once the data has streamed through.
   */
  static ByteBuffer encode(byte[] name, int flags, long size, boolean zip64Sizes,
      long headerOffset, int alignment) {
    int zip64Length = zip64Sizes ? LOCAL_ZIP64_EXTRA_SIZE : 0;
    int padding = 0;
    int paddingField = 0;
    if (alignment > 1) {
      long unpaddedDataStart =
          headerOffset + LOCAL_HEADER_SIZE + name.length + zip64Length + EXTRA_HEADER_SIZE;
      padding = (int) Math.floorMod(-unpaddedDataStart, (long) alignment);
      paddingField = EXTRA_HEADER_SIZE + padding;
    }
    int extraLength = zip64Length + paddingField;
    ByteBuffer h =
        ByteBuffer.allocate(LOCAL_HEADER_SIZE + name.length + extraLength)
            .order(ByteOrder.LITTLE_ENDIAN);
    long size32 = zip64Sizes ? U32_SENTINEL : size;
    h.putInt(LOCAL_HEADER_SIGNATURE)
        .putShort((short) (zip64Sizes ? VERSION_ZIP64 : VERSION_DEFAULT))
        .putShort((short) flags)
        .putShort((short) METHOD_STORED)
        .putShort((short) DOS_TIME_MIDNIGHT)
        .putShort((short) DOS_DATE_1980_01_01)
        .putInt(0) // CRC-32: patched once the data has streamed through
        .putInt((int) size32) // compressed size
        .putInt((int) size32) // uncompressed size
        .putShort((short) name.length)
        .putShort((short) extraLength)
        .put(name);
    if (zip64Sizes) {
      h.putShort((short) ZIP64_EXTRA_ID)
          .putShort((short) (2 * Long.BYTES))
          .putLong(size) // original size
          .putLong(size); // compressed size
    }
    if (paddingField > 0) {
      h.putShort((short) TORCH_PADDING_EXTRA_ID).putShort((short) padding);
      for (int i = 0; i < padding; i++) {
        h.put(TORCH_PADDING_BYTE);
      }
    }
    return h.flip();
  }
}
