package io.ckpt4j.container.zip;

import static io.ckpt4j.container.zip.ZipFormat.*;

import io.ckpt4j.CheckpointException;
import io.ckpt4j.CheckpointException.Kind;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.channels.WritableByteChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.zip.CRC32;

/**
 * Writes a zip archive the way PyTorch 2.13's {@code PyTorchStreamWriter} lays it out: every entry
 * stored (uncompressed), and a padding extra field in each local header (id "FB", filled with 'Z')
 * so that every entry's data starts at a multiple of the alignment, 64 bytes by default. Python's
 * {@code torch.load(..., mmap=True)} can then map the storages in place.
 *
 * <p>Sizes are known before each entry is written; the CRC-32 is computed while the data streams
 * through and patched into the local header afterwards, so no data descriptor is needed and no
 * second copy of the data is ever held. Zip64 fields and end records are written only when an
 * offset, a size or the entry count needs them.
 *
 * <p>If an entry fails, the writer refuses further work; {@link #close()} then closes the file
 * without a central directory, and the caller should delete it.
 */
public final class ZipWriter implements AutoCloseable {
  /** PyTorch's {@code kFieldAlignment}: storage data starts at multiples of 64 bytes. */
  public static final int DEFAULT_ALIGNMENT = 64;

  /** The largest alignment accepted: one memory page on common systems. */
  public static final int MAX_ALIGNMENT = 4096;

  /** What the central directory needs to know about an entry already written. */
  private record Written(byte[] nameBytes, int flags, ZipEntry entry) {}

  private final FileChannel channel;
  private final Path path;
  private final int alignment;
  private final boolean forceZip64;
  /** Where the archive starts in the channel: 0, or where it is appended to a larger file. */
  private final long base;
  /** Whether {@link #close()} closes the channel (not when appending to a caller's channel). */
  private final boolean ownsChannel;
  private final List<Written> written = new ArrayList<>();
  private final Set<String> names = new HashSet<>();
  private long position;
  private boolean finished;
  private boolean failed;
  private boolean closed;

  private ZipWriter(FileChannel channel, Path path, int alignment, boolean forceZip64, long base,
      boolean ownsChannel) {
    this.channel = channel;
    this.path = path;
    this.alignment = alignment;
    this.forceZip64 = forceZip64;
    this.base = base;
    this.ownsChannel = ownsChannel;
  }

  /**
   * Writes a whole archive at the current position of {@code channel}, an open file the caller
   * owns (closing this writer finishes the archive and leaves the channel open, positioned after
   * it): how torch.distributed.checkpoint's {@code .distcp} files hold one {@code torch.save}
   * archive after another. Offsets inside the archive count from where it starts, as Python's
   * writer counts them on a stream.
   */
  public static ZipWriter append(FileChannel channel, Path path, int alignment)
      throws CheckpointException {
    checkAlignment(alignment);
    try {
      return new ZipWriter(channel, path, alignment, false, channel.position(), false);
    } catch (IOException e) {
      throw new CheckpointException(Kind.IO, "cannot append to it: " + e, e).at(location(path));
    }
  }

  private static void checkAlignment(int alignment) {
    if (alignment < 1 || alignment > MAX_ALIGNMENT || Integer.bitCount(alignment) != 1) {
      throw new IllegalArgumentException(
          "alignment must be a power of two from 1 to " + MAX_ALIGNMENT + ", got " + alignment);
    }
  }

  /** Creates (or truncates) {@code file} and writes entries aligned to 64 bytes. */
  public static ZipWriter create(Path file) throws CheckpointException {
    return create(file, DEFAULT_ALIGNMENT);
  }

  /**
   * Creates (or truncates) {@code file}.
   *
   * @param alignment every entry's data starts at a multiple of this: a power of two from 1 (no
   *     padding) to {@link #MAX_ALIGNMENT}
   */
  public static ZipWriter create(Path file, int alignment) throws CheckpointException {
    return create(file, alignment, false);
  }

  /**
   * As {@link #create(Path, int)}; with {@code forceZip64} every entry gets zip64 fields and the
   * archive gets zip64 end records however small it is, so tests can check that other readers
   * accept the zip64 layout without writing 4 GiB.
   */
  static ZipWriter create(Path file, int alignment, boolean forceZip64) throws CheckpointException {
    checkAlignment(alignment);
    try {
      FileChannel channel =
          FileChannel.open(
              file,
              StandardOpenOption.CREATE,
              StandardOpenOption.TRUNCATE_EXISTING,
              StandardOpenOption.WRITE);
      return new ZipWriter(channel, file, alignment, forceZip64, 0, true);
    } catch (IOException | UnsupportedOperationException | SecurityException e) {
      throw new CheckpointException(CheckpointException.ioKind(e), "cannot create it: " + e, e)
          .at(location(file));
    }
  }

  /** Writes a small entry whose bytes are {@code data}'s remaining bytes (left unconsumed). */
  public void writeEntry(String name, ByteBuffer data) throws CheckpointException {
    ByteBuffer bytes = data.duplicate();
    writeEntry(name, bytes.remaining(), out -> {
      while (bytes.hasRemaining()) {
        out.write(bytes);
      }
    });
  }

  /**
   * Writes an entry of exactly {@code size} bytes produced by {@code body}.
   *
   * @throws IllegalArgumentException if the name is empty, too long or already written
   * @throws IllegalStateException if the archive is finished or an earlier entry failed
   * @throws CheckpointException if writing fails or the body writes a different number of bytes
   */
  public void writeEntry(String name, long size, EntryBody body) throws CheckpointException {
    Objects.requireNonNull(body, "body");
    requireWritable();
    byte[] nameBytes = name.getBytes(StandardCharsets.UTF_8);
    if (nameBytes.length == 0 || nameBytes.length > U16_SENTINEL) {
      throw new IllegalArgumentException(
          "zip entry names must be 1 to " + U16_SENTINEL + " UTF-8 bytes: " + name);
    }
    if (size < 0) {
      throw new IllegalArgumentException("negative size " + size + " for zip entry " + name);
    }
    if (!names.add(name)) {
      throw new IllegalArgumentException("zip entry " + name + " is already written to " + path);
    }
    boolean ascii = nameBytes.length == name.length();
    int flags = ascii ? 0 : FLAG_UTF8;
    long headerOffset = position;
    boolean zip64Sizes = forceZip64 || size >= U32_SENTINEL;
    try {
      ByteBuffer header =
          LocalHeader.encode(nameBytes, flags, size, zip64Sizes, headerOffset, alignment);
      writeFully(header);
      long dataOffset = position;
      EntryChannel out = new EntryChannel(size, name);
      body.writeTo(out);
      out.close();
      if (out.count != size) {
        throw error(Kind.INVALID_VALUE,
            "entry " + name + " declared " + size + " bytes but its body wrote " + out.count, null);
      }
      long crc = out.crc.getValue();
      ByteBuffer crcField = ByteBuffer.allocate(Integer.BYTES).order(ByteOrder.LITTLE_ENDIAN);
      crcField.putInt(0, (int) crc);
      writeFullyAt(crcField, headerOffset + LOCAL_CRC);
      written.add(
          new Written(
              nameBytes, flags,
              new ZipEntry(name, METHOD_STORED, flags, size, size, crc, headerOffset, dataOffset)));
    } catch (CheckpointException e) {
      failed = true;
      throw e;
    } catch (IOException | RuntimeException e) {
      failed = true;
      throw error(Kind.IO, "entry " + name + " failed at byte " + position + ": " + e, e);
    }
  }

  /** The entries written so far, with their offsets, in order. */
  public List<ZipEntry> entries() {
    List<ZipEntry> entries = new ArrayList<>(written.size());
    for (Written w : written) {
      entries.add(w.entry());
    }
    return Collections.unmodifiableList(entries);
  }

  /** Writes the central directory and end records. Further entries are refused. */
  public void finish() throws CheckpointException {
    requireWritable();
    try {
      long cdOffset = position;
      for (Written w : written) {
        writeFully(CentralDirectory.encode(w.entry(), w.nameBytes(), w.flags(), forceZip64));
      }
      long cdSize = position - cdOffset;
      long count = written.size();
      boolean zip64End =
          forceZip64 || count >= U16_SENTINEL || cdOffset >= U32_SENTINEL || cdSize >= U32_SENTINEL;
      if (zip64End) {
        long recordOffset = position;
        writeFully(EndRecord.encodeZip64(count, cdSize, cdOffset));
        writeFully(EndRecord.encodeZip64Locator(recordOffset));
      }
      writeFully(EndRecord.encode(count, cdSize, cdOffset, forceZip64));
      finished = true;
    } catch (IOException | RuntimeException e) {
      failed = true;
      throw error(Kind.IO, "central directory failed at byte " + position + ": " + e, e);
    }
  }

  /** Finishes the archive if it is complete, then closes the file. */
  @Override
  public void close() throws CheckpointException {
    if (closed) {
      return;
    }
    try {
      if (!finished && !failed) {
        finish();
      }
    } finally {
      closed = true;
      try {
        if (ownsChannel) channel.close();
      } catch (IOException e) {
        throw new CheckpointException(Kind.IO, "cannot close it: " + e, e).at(location(path));
      }
    }
  }

  /** Where errors about a new archive say they happened: "zip file PATH". */
  private static String location(Path file) {
    return "zip file " + file;
  }

  /** An error of this writer, at "writing zip file PATH". */
  private CheckpointException error(Kind kind, String detail, Throwable cause) {
    return new CheckpointException(kind, detail, cause).at("writing " + location(path));
  }

  private void requireWritable() {
    if (closed || finished) {
      throw new IllegalStateException("zip file " + path + " is already finished");
    }
    if (failed) {
      throw new IllegalStateException(
          "zip file " + path + " is incomplete because an earlier write failed");
    }
  }

  private void writeFully(ByteBuffer buffer) throws IOException {
    while (buffer.hasRemaining()) {
      position += channel.write(buffer);
    }
  }

  private void writeFullyAt(ByteBuffer buffer, long at) throws IOException {
    long to = at;
    while (buffer.hasRemaining()) {
      to += channel.write(buffer, base + to);
    }
  }

  /** Passes an entry's bytes to the file, counting them and updating the CRC-32. */
  private final class EntryChannel implements WritableByteChannel {
    private final long size;
    private final String name;
    private final CRC32 crc = new CRC32();
    private long count;
    private boolean open = true;

    EntryChannel(long size, String name) {
      this.size = size;
      this.name = name;
    }

    @Override
    public int write(ByteBuffer src) throws IOException {
      if (!open) {
        throw error(Kind.INVALID_VALUE,
            "the body of zip entry " + name + " wrote after returning", null);
      }
      int n = src.remaining();
      if (n > size - count) {
        throw error(Kind.INVALID_VALUE,
            "the body of zip entry " + name + " wrote more than its declared " + size + " bytes",
            null);
      }
      crc.update(src.duplicate());
      writeFully(src);
      count += n;
      return n;
    }

    @Override
    public boolean isOpen() {
      return open;
    }

    @Override
    public void close() {
      open = false;
    }
  }
}
