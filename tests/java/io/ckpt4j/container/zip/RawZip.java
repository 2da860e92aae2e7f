package io.ckpt4j.container.zip;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.CRC32;
import java.util.zip.Deflater;

/**
 * Builds zip bytes field by field for malformed-input tests: every field of every record can be
 * set to a wrong value. Defaults give a valid plain zip of stored entries.
 */
final class RawZip {
  /** One member; fields left at -1 or null take the value that makes a valid archive. */
  static final class Entry {
    String name;
    byte[] data = new byte[0];
    int method = 0;
    int flags = 0;
    long crc = -1;
    long compressedSize = -1;
    long size = -1;
    String localName;
    int localFlags = -1;
    int localMethod = -1;
    long localCrc = -1;
    byte[] localExtra = new byte[0];
    byte[] centralExtra = new byte[0];
    long centralCompressedSize = -1;
    long centralSize = -1;
    long localHeaderOffset = -1;
    int diskStart = 0;
    int nameLengthOverride = -1;
    boolean writeLocal = true;

    Entry(String name, byte[] data) {
      this.name = name;
      this.data = data;
    }

    /** Deflates {@code plain} and declares its real size and CRC. */
    static Entry deflated(String name, byte[] plain) {
      Entry e = new Entry(name, deflate(plain));
      e.method = 8;
      e.size = plain.length;
      e.crc = crc(plain);
      return e;
    }
  }

  final List<Entry> entries = new ArrayList<>();
  byte[] comment = new byte[0];
  byte[] prefix = new byte[0];
  byte[] cdTrailing = new byte[0];
  byte[] trailing = new byte[0];
  long cdOffsetOverride = -1;
  long cdSizeOverride = -1;
  int countOverride = -1;
  int diskOverride = -1;
  int commentLengthOverride = -1;

  RawZip add(Entry e) {
    entries.add(e);
    return this;
  }

  RawZip add(String name, byte[] data) {
    return add(new Entry(name, data));
  }

  static byte[] ascii(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  static long crc(byte[] data) {
    CRC32 c = new CRC32();
    c.update(data);
    return c.getValue();
  }

  static byte[] deflate(byte[] plain) {
    Deflater d = new Deflater(Deflater.BEST_COMPRESSION, true);
    d.setInput(plain);
    d.finish();
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    byte[] buffer = new byte[1 << 16];
    while (!d.finished()) {
      out.write(buffer, 0, d.deflate(buffer));
    }
    d.end();
    return out.toByteArray();
  }

  /** A local file header with the entry's fields. */
  static byte[] localHeader(Entry e) {
    byte[] name = ascii(e.localName != null ? e.localName : e.name);
    ByteBuffer b = le(30 + name.length + e.localExtra.length);
    b.putInt(0x04034b50)
        .putShort((short) 20)
        .putShort((short) (e.localFlags >= 0 ? e.localFlags : e.flags))
        .putShort((short) (e.localMethod >= 0 ? e.localMethod : e.method))
        .putShort((short) 0)
        .putShort((short) 0x21)
        .putInt((int) (e.localCrc >= 0 ? e.localCrc : crcOf(e)))
        .putInt((int) compressedSizeOf(e))
        .putInt((int) sizeOf(e))
        .putShort((short) name.length)
        .putShort((short) e.localExtra.length)
        .put(name)
        .put(e.localExtra);
    return b.array();
  }

  private static long crcOf(Entry e) {
    return e.crc >= 0 ? e.crc : crc(e.data);
  }

  private static long compressedSizeOf(Entry e) {
    return e.compressedSize >= 0 ? e.compressedSize : e.data.length;
  }

  private static long sizeOf(Entry e) {
    return e.size >= 0 ? e.size : e.data.length;
  }

  byte[] build() {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.writeBytes(prefix);
    long[] offsets = new long[entries.size()];
    for (int i = 0; i < entries.size(); i++) {
      Entry e = entries.get(i);
      offsets[i] = e.localHeaderOffset >= 0 ? e.localHeaderOffset : out.size();
      if (e.writeLocal) {
        out.writeBytes(localHeader(e));
        out.writeBytes(e.data);
      }
    }
    long cdOffset = out.size();
    for (int i = 0; i < entries.size(); i++) {
      Entry e = entries.get(i);
      byte[] name = ascii(e.name);
      ByteBuffer b = le(46 + name.length + e.centralExtra.length);
      b.putInt(0x02014b50)
          .putShort((short) 20)
          .putShort((short) 20)
          .putShort((short) e.flags)
          .putShort((short) e.method)
          .putShort((short) 0)
          .putShort((short) 0x21)
          .putInt((int) crcOf(e))
          .putInt((int) (e.centralCompressedSize >= 0 ? e.centralCompressedSize : compressedSizeOf(e)))
          .putInt((int) (e.centralSize >= 0 ? e.centralSize : sizeOf(e)))
          .putShort((short) (e.nameLengthOverride >= 0 ? e.nameLengthOverride : name.length))
          .putShort((short) e.centralExtra.length)
          .putShort((short) 0)
          .putShort((short) e.diskStart)
          .putShort((short) 0)
          .putInt(0)
          .putInt((int) offsets[i])
          .put(name)
          .put(e.centralExtra);
      out.writeBytes(b.array());
    }
    out.writeBytes(cdTrailing);
    long cdSize = out.size() - cdOffset;
    int count = countOverride >= 0 ? countOverride : entries.size();
    ByteBuffer end = le(22);
    end.putInt(0x06054b50)
        .putShort((short) (diskOverride >= 0 ? diskOverride : 0))
        .putShort((short) 0)
        .putShort((short) count)
        .putShort((short) count)
        .putInt((int) (cdSizeOverride >= 0 ? cdSizeOverride : cdSize))
        .putInt((int) (cdOffsetOverride >= 0 ? cdOffsetOverride : cdOffset))
        .putShort((short) (commentLengthOverride >= 0 ? commentLengthOverride : comment.length));
    out.writeBytes(end.array());
    out.writeBytes(comment);
    out.writeBytes(trailing);
    return out.toByteArray();
  }

  static ByteBuffer le(int size) {
    return ByteBuffer.allocate(size).order(ByteOrder.LITTLE_ENDIAN);
  }

  /** A zip64 extra field holding {@code values} as u64s. */
  static byte[] zip64Extra(long... values) {
    ByteBuffer b = le(4 + 8 * values.length);
    b.putShort((short) 1).putShort((short) (8 * values.length));
    for (long v : values) {
      b.putLong(v);
    }
    return b.array();
  }
}
