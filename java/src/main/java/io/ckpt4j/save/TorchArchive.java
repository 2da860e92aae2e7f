package io.ckpt4j.save;

import io.ckpt4j.CheckpointException;
import io.ckpt4j.ProgressListener;
import io.ckpt4j.container.zip.ZipEntry;
import io.ckpt4j.container.zip.ZipWriter;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/**
 * The zip archive {@code torch.save} 2.13 writes, record for record and in its order:
 * {@code <root>/data.pkl}, {@code .format_version}, {@code .storage_alignment}, {@code byteorder},
 * {@code data/0 ... data/N}, {@code version}, {@code .data/serialization_id} — every record
 * stored, its data 64-byte aligned, so {@code torch.load(mmap=True)} maps the storages in place.
 */
final class TorchArchive {
  /** {@code .format_version}: the storage-data layout version torch 2.13 writes. */
  static final String FORMAT_VERSION = "1";
  /** {@code version}: the archive version torch 2.13 writes, with its newline. */
  static final String ARCHIVE_VERSION = "3\n";
  /** The root folder torch uses when it cannot take one from the file name. */
  static final String DEFAULT_ROOT = "archive";
  /** 64-bit FNV-1a, for the serialization id's name hash. */
  private static final long FNV_OFFSET = 0xcbf29ce484222325L;
  private static final long FNV_PRIME = 0x100000001b3L;
  /** The golden-ratio constant of the usual hash_combine. */
  private static final long COMBINE_CONSTANT = 0x9e3779b97f4a7c15L;
  private static final int COMBINE_LEFT_SHIFT = 6;
  private static final int COMBINE_RIGHT_SHIFT = 2;

  private TorchArchive() {}

  /**
   * Writes the archive to {@code file}: the pickle, then each storage's bytes streamed from its
   * memory ({@code hostCopies}: CPU storages through the device path, a test seam), telling
   * {@code progress} the storage bytes written after each storage.
   */
  static void write(Path file, String root, byte[] pickle, List<SavedStorages.Entry> storages,
      boolean hostCopies, ProgressListener progress) throws CheckpointException {
    try (ZipWriter zip = ZipWriter.create(file, ZipWriter.DEFAULT_ALIGNMENT)) {
      write(zip, root, pickle, storages, hostCopies, progress);
    }
  }

  /**
   * Writes the archive's records into {@code zip} (a file, or a stream of archives) and finishes
   * it, telling {@code progress} the storage bytes written after each storage.
   */
  static void write(ZipWriter zip, String root, byte[] pickle, List<SavedStorages.Entry> storages,
      boolean hostCopies, ProgressListener progress) throws CheckpointException {
    long total = 0;
    for (SavedStorages.Entry s : storages) total = Math.addExact(total, s.nbytes());
    long done = 0;
    zip.writeEntry(root + "/data.pkl", ByteBuffer.wrap(pickle));
    zip.writeEntry(root + "/.format_version", ascii(FORMAT_VERSION));
    zip.writeEntry(root + "/.storage_alignment",
        ascii(Integer.toString(ZipWriter.DEFAULT_ALIGNMENT)));
    zip.writeEntry(root + "/byteorder", ascii(byteOrder()));
    for (SavedStorages.Entry s : storages) {
      zip.writeEntry(root + "/data/" + s.key(), s.nbytes(),
          out -> StorageStream.write(s, out, hostCopies));
      done += s.nbytes();
      progress.bytes(done, total);
    }
    zip.writeEntry(root + "/version", ascii(ARCHIVE_VERSION));
    zip.writeEntry(root + "/.data/serialization_id", ascii(serializationId(zip.entries())));
    zip.finish();
  }

  /**
   * The archive's root folder, as torch names it for a path: the file name without its last
   * extension ({@code model.v2.pt} gives {@code model.v2}); {@code archive} when the path is not
   * ASCII (torch then writes through a Python file object) or the name has nothing before its
   * dot (torch refuses {@code .hidden}; ckpt4j uses {@code archive}).
   */
  static String rootName(Path path) {
    String name = path.getFileName() == null ? "" : path.getFileName().toString();
    if (!StandardCharsets.US_ASCII.newEncoder().canEncode(path.toString())) return DEFAULT_ROOT;
    int dot = name.lastIndexOf('.');
    String stem = dot < 0 ? name : name.substring(0, dot);
    return stem.isEmpty() ? DEFAULT_ROOT : stem;
  }

  /** {@code byteorder}: the order of the bytes in memory, which the storages are written in. */
  static String byteOrder() {
    return ByteOrder.nativeOrder() == ByteOrder.LITTLE_ENDIAN ? "little" : "big";
  }

  /**
   * {@code .data/serialization_id}: 40 decimal digits, as torch writes — a hash of the record names
   * (20 digits) and a combination of the records' CRC-32s (20 digits), so it is deterministic and
   * changes with the content. torch.load only logs it; ckpt4j's hash functions are its own, so
   * the digits differ from torch's for the same content.
   */
  static String serializationId(List<ZipEntry> records) {
    long names = FNV_OFFSET;
    long crcs = 0;
    for (ZipEntry e : records) {
      for (byte b : e.name().getBytes(StandardCharsets.UTF_8)) {
        names = (names ^ (b & 0xff)) * FNV_PRIME;
      }
      crcs ^= e.crc32() + COMBINE_CONSTANT + (crcs << COMBINE_LEFT_SHIFT)
          + (crcs >>> COMBINE_RIGHT_SHIFT);
    }
    return String.format(Locale.ROOT, "%020d%020d", unsigned(names), unsigned(crcs));
  }

  private static BigInteger unsigned(long v) {
    return new BigInteger(Long.toUnsignedString(v));
  }

  private static ByteBuffer ascii(String s) {
    return ByteBuffer.wrap(s.getBytes(StandardCharsets.US_ASCII));
  }
}
