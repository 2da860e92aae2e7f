package io.ckpt4j.container.zip;

import io.ckpt4j.CheckpointException;
import io.ckpt4j.CheckpointException.Kind;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.util.zip.CRC32;
import java.util.zip.DataFormatException;
import java.util.zip.Inflater;

/**
 * Reads an entry's bytes (stored or deflated) in bounded chunks, checking the declared size and
 * CRC-32. Output grows with the bytes actually produced, never with a declared size alone, and
 * inflation stops at the declared size, so a deflate bomb costs at most that much memory.
 */
final class EntryData {
  /** Bytes read from the file per step. */
  private static final int CHUNK = 1 << 20;

  /** First output buffer for a deflated entry; it doubles as real output arrives. */
  private static final int INITIAL_INFLATE_BUFFER = 64 << 10;

  /**
   * Raw deflate cannot expand data by more than about 1032:1 (a 258-byte match costs at least 2
   * bits); a declared size beyond that from the compressed size is a lie.
   */
  private static final long MAX_DEFLATE_RATIO = 1032;

  /** Slack for the stream's block headers on tiny entries. */
  private static final long DEFLATE_RATIO_SLACK = 1024;

  private EntryData() {}

  /** Receives the entry's uncompressed bytes, chunk by chunk. */
  private interface Sink {
    void accept(ByteBuffer chunk);
  }

  /** Returns the whole uncompressed entry; the caller has checked {@code entry.size()} fits. */
  static ByteBuffer readAll(FileChannel channel, ZipEntry entry)
      throws CheckpointException {
    GrowingBuffer out = new GrowingBuffer(entry);
    stream(channel, entry, out::append);
    return out.finish();
  }

  /** Streams the entry through its checks without keeping the bytes. */
  static void verify(FileChannel channel, ZipEntry entry) throws CheckpointException {
    stream(channel, entry, chunk -> {});
  }

  private static void stream(FileChannel channel, ZipEntry entry, Sink sink)
      throws CheckpointException {
    CRC32 crc = new CRC32();
    long produced;
    switch (entry.method()) {
      case ZipFormat.METHOD_STORED:
        produced = copyStored(channel, entry, crc, sink);
        break;
      case ZipFormat.METHOD_DEFLATED:
        produced = inflate(channel, entry, crc, sink);
        break;
      default:
        throw new CheckpointException(Kind.UNSUPPORTED_FORMAT,
            "entry " + entry.name() + " uses compression method "
                + entry.method() + "; only stored (0) and deflated (8) entries are supported:"
                + " rewrite the zip with stored entries, as torch.save writes them");
    }
    if (produced != entry.size()) {
      throw new CheckpointException(Kind.MALFORMED_CONTAINER,
          "entry " + entry.name() + " holds " + produced
              + " bytes but declares " + entry.size() + ": corrupt archive");
    }
    if (crc.getValue() != entry.crc32()) {
      throw new ZipAnomalyException(ZipAnomaly.BAD_CRC, Kind.MALFORMED_CONTAINER,
          "entry " + entry.name() + " fails its CRC-32 check (computed "
              + String.format("0x%08x", crc.getValue()) + ", declared "
              + String.format("0x%08x", entry.crc32()) + "): corrupt or tampered archive");
    }
  }

  private static long copyStored(
      FileChannel channel, ZipEntry entry, CRC32 crc, Sink sink)
      throws CheckpointException {
    ByteBuffer buffer = ByteBuffer.allocate((int) Math.min(CHUNK, Math.max(1, entry.size())));
    long done = 0;
    while (done < entry.size()) {
      buffer.clear().limit((int) Math.min(buffer.capacity(), entry.size() - done));
      ChannelReads.readFully(
          channel, entry.dataOffset() + done, buffer, "the data of " + entry.name());
      buffer.flip();
      crc.update(buffer.duplicate());
      sink.accept(buffer);
      done += buffer.limit();
    }
    return done;
  }

  /**
   * Refuses a deflated entry whose declared size is more than deflate can make of its compressed
   * bytes: checked from the headers alone, before anything is inflated.
   */
  static void checkDeflateRatio(ZipEntry entry) throws CheckpointException {
    if (entry.method() != ZipFormat.METHOD_DEFLATED) return;
    long ratioLimit =
        Math.addExact(
            Math.multiplyExact(entry.compressedSize(), MAX_DEFLATE_RATIO), DEFLATE_RATIO_SLACK);
    if (entry.size() > ratioLimit) {
      throw new CheckpointException(Kind.MALFORMED_CONTAINER,
          "deflated entry " + entry.name() + " declares " + entry.size()
              + " bytes from " + entry.compressedSize() + " compressed bytes, more than deflate"
              + " can produce: corrupt or malicious archive");
    }
  }

  private static long inflate(FileChannel channel, ZipEntry entry, CRC32 crc, Sink sink)
      throws CheckpointException {
    checkDeflateRatio(entry);
    Inflater inflater = new Inflater(true);
    try {
      ByteBuffer input = ByteBuffer.allocate((int) Math.min(CHUNK, Math.max(1, entry.compressedSize())));
      ByteBuffer output = ByteBuffer.allocate(CHUNK);
      long consumed = 0;
      long produced = 0;
      while (!inflater.finished()) {
        if (inflater.needsInput()) {
          if (consumed == entry.compressedSize()) {
            throw new CheckpointException(Kind.MALFORMED_CONTAINER,
                "deflated entry " + entry.name() + " ends after "
                    + produced + " of its " + entry.size() + " bytes: truncated or corrupt data");
          }
          input.clear().limit((int) Math.min(input.capacity(), entry.compressedSize() - consumed));
          ChannelReads.readFully(
              channel, entry.dataOffset() + consumed, input, "the data of " + entry.name());
          input.flip();
          consumed += input.limit();
          inflater.setInput(input);
        }
        if (inflater.needsDictionary()) {
          throw new CheckpointException(Kind.MALFORMED_CONTAINER,
              "deflated entry " + entry.name()
                  + " needs a preset dictionary, which zip does not allow: corrupt data");
        }
        // Never ask for more than the declared size: a bomb stops here.
        long room = entry.size() - produced;
        output.clear().limit((int) Math.min(output.capacity(), room + 1));
        int n = inflater.inflate(output);
        produced += n;
        if (produced > entry.size()) {
          throw new CheckpointException(Kind.MALFORMED_CONTAINER,
              "deflated entry " + entry.name()
                  + " inflates to more than its declared " + entry.size()
                  + " bytes: corrupt or malicious archive (deflate bomb)");
        }
        output.flip();
        crc.update(output.duplicate());
        sink.accept(output);
      }
      return produced;
    } catch (DataFormatException e) {
      throw new CheckpointException(Kind.MALFORMED_CONTAINER,
          "deflated entry " + entry.name() + " is not valid deflate data ("
              + e.getMessage() + "): corrupt archive", e);
    } finally {
      inflater.end();
    }
  }

  /** Collects output, growing by doubling up to the entry's declared size. */
  private static final class GrowingBuffer {
    private final long limit;
    private ByteBuffer buffer;

    GrowingBuffer(ZipEntry entry) {
      this.limit = entry.size();
      int first =
          entry.isStored() ? (int) entry.size() : (int) Math.min(entry.size(), INITIAL_INFLATE_BUFFER);
      this.buffer = ByteBuffer.allocate(first);
    }

    void append(ByteBuffer chunk) {
      if (chunk.remaining() > buffer.remaining()) {
        long wanted = (long) buffer.position() + chunk.remaining();
        // The stream refuses output past the declared size before it gets here, so wanted <= limit.
        long grown = Math.min(limit, Math.max(wanted, 2L * buffer.capacity()));
        ByteBuffer bigger = ByteBuffer.allocate((int) grown);
        buffer.flip();
        bigger.put(buffer);
        buffer = bigger;
      }
      buffer.put(chunk);
    }

    ByteBuffer finish() {
      buffer.flip();
      return buffer.asReadOnlyBuffer();
    }
  }
}
