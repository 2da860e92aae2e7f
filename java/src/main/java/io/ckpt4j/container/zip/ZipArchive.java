package io.ckpt4j.container.zip;

import io.ckpt4j.CheckpointException;
import io.ckpt4j.CheckpointException.Kind;
import java.io.IOException;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * A zip archive read by content and never trusted: the format {@code torch.save} writes (and
 * Python's {@code zipfile}, and TorchScript).
 *
 * <p>{@link #open} reads only the end records, the central directory and each entry's local
 * header, never entry data, and checks every length and offset against the file before using it.
 * Duplicate names, encrypted entries, central and local headers that disagree, entries that
 * overlap each other or the central directory, and conflicting zip64 records are refused with a
 * {@link CheckpointException}.
 *
 * <p>Small records ({@code data.pkl}, {@code version}) are read with {@link #read}, which inflates
 * if needed and checks size and CRC-32. Tensor storages are stored uncompressed; the tensor layer
 * reads or maps them in place through {@link #channel()} at {@link ZipEntry#dataOffset()}, and can
 * check their CRC with {@link #verifyCrc}.
 *
 * <p>An open archive is safe to use from several threads: it is immutable and reads with
 * positional I/O.
 */
public final class ZipArchive implements AutoCloseable {
  /** The largest entry {@link #read} returns: the largest array a JVM reliably allocates. */
  public static final long MAX_IN_MEMORY_ENTRY = Integer.MAX_VALUE - 8;

  private final Path path;
  private final FileChannel channel;
  /** Where the archive starts in its file: 0, or the start of an archive embedded in a file. */
  private final long base;
  private final long fileSize;
  private final List<ZipEntry> entries;
  private final Map<String, ZipEntry> byName;
  private final byte[] comment;
  private final boolean zip64;

  private ZipArchive(
      Path path,
      FileChannel channel,
      long base,
      long fileSize,
      List<ZipEntry> entries,
      Map<String, ZipEntry> byName,
      byte[] comment,
      boolean zip64) {
    this.path = path;
    this.channel = channel;
    this.base = base;
    this.fileSize = fileSize;
    this.entries = entries;
    this.byName = byName;
    this.comment = comment;
    this.zip64 = zip64;
  }

  /**
   * Opens {@code file} and reads its directory.
   *
   * @throws CheckpointException if the file cannot be read or is not a well-formed zip archive
   */
  public static ZipArchive open(Path file) throws CheckpointException {
    FileChannel channel;
    try {
      channel = FileChannel.open(file, StandardOpenOption.READ);
    } catch (IOException | UnsupportedOperationException | SecurityException e) {
      throw new CheckpointException(CheckpointException.ioKind(e), "cannot open it: " + e, e)
          .at(location(file));
    }
    try {
      return read(channel, file, 0);
    } catch (CheckpointException e) {
      closeAfter(channel, e);
      throw e.at(location(file));
    } catch (RuntimeException | Error e) {
      closeAfter(channel, e);
      throw e;
    }
  }

  /** What is made of an archive just opened ({@link #openWith}). */
  @FunctionalInterface
  public interface Opener<T> {
    T apply(ZipArchive zip) throws CheckpointException;
  }

  /**
   * Opens {@code file} and hands the archive to {@code opener}, whose result then owns it; if
   * {@code opener} fails, the archive is closed (a failure to close is added as suppressed).
   */
  public static <T> T openWith(Path file, Opener<T> opener) throws CheckpointException {
    ZipArchive zip = open(file);
    try {
      return opener.apply(zip);
    } catch (CheckpointException | RuntimeException e) {
      try {
        zip.close();
      } catch (CheckpointException closing) {
        e.addSuppressed(closing);
      }
      throw e;
    }
  }

  /**
   * Opens the archive that fills bytes {@code [start, start + length)} of {@code file} — one
   * embedded in a larger file, as each record of a torch.distributed.checkpoint {@code .distcp}
   * file is — and reads its directory. Its entries' offsets count from {@code start}; {@link
   * #base()} gives {@code start} back for positions in the file.
   *
   * @throws CheckpointException if the range is not inside the file, or holds no well-formed zip
   */
  public static ZipArchive open(Path file, long start, long length) throws CheckpointException {
    String where = location(file) + " (bytes " + start + " to " + (start + length) + ")";
    FileChannel channel;
    try {
      channel = FileChannel.open(file, StandardOpenOption.READ);
    } catch (IOException | UnsupportedOperationException | SecurityException e) {
      throw new CheckpointException(CheckpointException.ioKind(e), "cannot open it: " + e, e)
          .at(where);
    }
    try {
      long size = channel.size();
      if (start < 0 || length < 0 || start > size || length > size - start) {
        throw new CheckpointException(Kind.TRUNCATED, "the range lies outside the file of " + size
            + " bytes: truncated file, or an offset that does not belong to it");
      }
      return read(new WindowChannel(channel, start, length), file, start);
    } catch (CheckpointException e) {
      closeAfter(channel, e);
      throw e.at(where);
    } catch (IOException | RuntimeException | Error e) {
      closeAfter(channel, e);
      throw new CheckpointException(Kind.IO, "cannot read it: " + e, e).at(where);
    }
  }

  /** Where errors about an archive say they happened: "zip file PATH". */
  private static String location(Path file) {
    return "zip file " + file;
  }

  /** Where errors about this archive say they happened: "zip file PATH". */
  public String location() {
    return location(path);
  }

  private static void closeAfter(FileChannel channel, Throwable failure) {
    try {
      channel.close();
    } catch (IOException suppressed) {
      failure.addSuppressed(suppressed);
    }
  }

  private static ZipArchive read(FileChannel channel, Path file, long base)
      throws CheckpointException {
    try {
      long fileSize = channel.size();
      int signature = firstSignature(channel, fileSize);
      EndRecord end =
          EndRecord.read(channel, fileSize, signature == ZipFormat.LOCAL_HEADER_SIGNATURE);
      if (end.centralDirectorySize() > CentralDirectory.MAX_CENTRAL_DIRECTORY_BYTES) {
        throw new CheckpointException(Kind.LIMIT_EXCEEDED,
            "central directory of " + ByteSizes.format(end.centralDirectorySize())
                + " is larger than the " + ByteSizes.format(CentralDirectory.MAX_CENTRAL_DIRECTORY_BYTES)
                + " limit: corrupt archive, or far more entries than a checkpoint holds");
      }
      ByteBuffer directory =
          ChannelReads.read(
              channel, end.centralDirectoryOffset(), (int) end.centralDirectorySize(),
              "the central directory");
      List<CentralDirectory.Record> records = CentralDirectory.parse(directory, end);
      Map<String, ZipEntry> byName = new HashMap<>(records.size() * 2);
      Map<String, ZipEntry> byFoldedName = new HashMap<>(records.size() * 2);
      List<ZipEntry> entries =
          LocalHeader.resolve(channel, records, end.centralDirectoryOffset());
      for (ZipEntry e : entries) {
        ZipEntry sameFolded = byFoldedName.putIfAbsent(e.name().toLowerCase(Locale.ROOT), e);
        if (byName.putIfAbsent(e.name(), e) != null || sameFolded != null) {
          String names = sameFolded == null || sameFolded.name().equals(e.name())
              ? "two entries are named " + e.name()
              : "entries " + sameFolded.name() + " and " + e.name() + " differ only in case";
          throw new ZipAnomalyException(ZipAnomaly.DUPLICATE_NAME, Kind.MALFORMED_CONTAINER, names
              + " (a scanner-evasion trick: tools disagree on which one counts, and some look"
              + " names up case-insensitively): refusing the archive");
        }
      }
      return new ZipArchive(
          file, channel, base, fileSize, Collections.unmodifiableList(entries),
          Collections.unmodifiableMap(byName), end.comment(), end.zip64());
    } catch (IOException e) {
      if (e instanceof CheckpointException) {
        throw (CheckpointException) e;
      }
      throw new CheckpointException(Kind.IO, "cannot read it: " + e, e);
    } catch (ArithmeticException | IndexOutOfBoundsException | BufferUnderflowException e) {
      // Backstop: every field is checked before use, so this means a check is missing.
      throw new CheckpointException(Kind.MALFORMED_CONTAINER, "corrupt archive (" + e + ")", e);
    }
  }

  /**
   * The signature the file starts with (0 for a file shorter than one): a zip starts with a local
   * header; split and spanned archives, refused here, start with a marker instead.
   */
  private static int firstSignature(FileChannel channel, long fileSize)
      throws CheckpointException {
    if (fileSize < Integer.BYTES) {
      return 0;
    }
    int marker = ChannelReads.read(channel, 0, Integer.BYTES, "the file signature").getInt(0);
    if (marker == ZipFormat.SPLIT_MARKER_SIGNATURE
        || marker == ZipFormat.SPANNED_MARKER_SIGNATURE) {
      throw new CheckpointException(Kind.UNSUPPORTED_FORMAT,
          "starts with a split/spanned archive marker: split zip"
              + " archives are not supported, join the parts into one zip file");
    }
    return marker;
  }

  /** The file this archive was opened from. */
  public Path path() {
    return path;
  }

  /**
   * The open channel, for positional reads or memory mapping of stored entries at {@link
   * ZipEntry#dataOffset()}. It stays owned by this archive: do not close it or move its position.
   */
  public FileChannel channel() {
    return channel;
  }

  /**
   * Where the archive starts in {@link #path()}: 0 for a zip file, the start of the range for one
   * embedded in a larger file. An entry's bytes lie at {@code base() + entry.dataOffset()} there.
   */
  public long base() {
    return base;
  }

  /** The size of the file in bytes when it was opened (of the range, for an embedded archive). */
  public long fileSize() {
    return fileSize;
  }

  /** All entries, in central directory order. */
  public List<ZipEntry> entries() {
    return entries;
  }

  /** The entry with exactly this name. */
  public Optional<ZipEntry> find(String name) {
    return Optional.ofNullable(byName.get(name));
  }

  /** The archive comment, raw bytes (empty if none). */
  public byte[] comment() {
    return comment.clone();
  }

  /** Whether the archive has zip64 end records. */
  public boolean isZip64() {
    return zip64;
  }

  /**
   * Reads an entry's uncompressed bytes into memory, checking its size and CRC-32.
   *
   * @param maxBytes the most bytes the caller accepts; larger entries are refused before any
   *     allocation
   * @return a read-only buffer positioned at 0 with the entry's bytes
   */
  public ByteBuffer read(ZipEntry entry, long maxBytes) throws CheckpointException {
    return read(entry, maxBytes, "an entry read into memory");
  }

  /**
   * Like {@link #read(ZipEntry, long)}; {@code purpose} names the limit in the error, e.g.
   * {@code "pickles"} gives "entry archive/data.pkl is 3 GiB, more than the 2 GiB limit for
   * pickles".
   */
  public ByteBuffer read(ZipEntry entry, long maxBytes, String purpose) throws CheckpointException {
    requireOwn(entry);
    checkLimit(entry, maxBytes, purpose);
    try {
      return EntryData.readAll(channel, entry);
    } catch (CheckpointException e) {
      throw e.at(location(path));
    }
  }

  /** An entry's bytes, read when asked for ({@link #later}). */
  @FunctionalInterface
  public interface LaterRead {
    ByteBuffer read() throws CheckpointException;
  }

  /**
   * What {@link #read(ZipEntry, long, String)} gives, read only when asked for, from the file
   * opened anew (this archive may be closed by then): a deflated storage cannot be mapped, and is
   * inflated when its tensor is made, never by a lazy open, {@code inspect} or a scan. The limit
   * is checked now, from the entry's declared size.
   */
  public LaterRead later(ZipEntry entry, long maxBytes, String purpose) throws CheckpointException {
    requireOwn(entry);
    checkLimit(entry, maxBytes, purpose);
    try {
      EntryData.checkDeflateRatio(entry);
    } catch (CheckpointException e) {
      throw e.at(location(path));
    }
    Path file = path;
    long start = base;
    long length = channelSize();
    return () -> {
      try (ZipArchive again = open(file, start, length)) {
        ZipEntry same = again.byName.get(entry.name());
        if (!entry.equals(same)) {
          throw new CheckpointException(Kind.IO, "entry " + entry.name()
              + " changed since the archive was opened: the file was replaced while in use")
              .at(location(file));
        }
        return again.read(same, maxBytes, purpose);
      }
    };
  }

  private long channelSize() throws CheckpointException {
    try {
      return channel.size();
    } catch (IOException e) {
      throw new CheckpointException(CheckpointException.ioKind(e), "cannot read it: " + e, e)
          .at(location(path));
    }
  }

  private void checkLimit(ZipEntry entry, long maxBytes, String purpose)
      throws CheckpointException {
    long limit = Math.min(maxBytes, MAX_IN_MEMORY_ENTRY);
    if (entry.size() > limit) {
      throw new CheckpointException(Kind.LIMIT_EXCEEDED,
          "entry " + entry.name() + " is " + ByteSizes.format(entry.size())
              + ", more than the " + ByteSizes.format(limit) + " limit for " + purpose)
          .at(location(path));
    }
  }

  /**
   * Streams an entry's data and checks its size and CRC-32 without keeping it. Stored tensor
   * data is not checked on the fast path (torch does not either); this is the slow, sure check.
   */
  public void verifyCrc(ZipEntry entry) throws CheckpointException {
    requireOwn(entry);
    try {
      EntryData.verify(channel, entry);
    } catch (CheckpointException e) {
      throw e.at(location(path));
    }
  }

  private void requireOwn(ZipEntry entry) {
    Objects.requireNonNull(entry, "entry");
    if (!entry.equals(byName.get(entry.name()))) {
      throw new IllegalArgumentException(
          "entry " + entry.name() + " does not belong to zip file " + path);
    }
  }

  /** Closes the file. */
  @Override
  public void close() throws CheckpointException {
    try {
      channel.close();
    } catch (IOException e) {
      throw new CheckpointException(Kind.IO, "cannot close it: " + e, e).at(location(path));
    }
  }

  @Override
  public String toString() {
    return "ZipArchive[" + path + ", " + entries.size() + " entries]";
  }
}
