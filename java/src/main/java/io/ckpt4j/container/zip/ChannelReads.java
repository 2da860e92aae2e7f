package io.ckpt4j.container.zip;

import io.ckpt4j.CheckpointException;
import io.ckpt4j.CheckpointException.Kind;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;

/** Positional reads that either fill the buffer or fail with a {@link CheckpointException}. */
final class ChannelReads {
  private ChannelReads() {}

  /**
   * Reads exactly {@code length} bytes at {@code position} into a new little-endian heap buffer.
   * Callers have already checked that the range lies inside the file and that {@code length} is
   * small (a header, never entry data).
   */
  static ByteBuffer read(FileChannel channel, long position, int length, String what)
      throws CheckpointException {
    ByteBuffer buffer = ByteBuffer.allocate(length).order(ByteOrder.LITTLE_ENDIAN);
    readFully(channel, position, buffer, what);
    buffer.flip();
    return buffer;
  }

  /** Fills {@code buffer} from its position to its limit with the bytes at {@code position}. */
  static void readFully(FileChannel channel, long position, ByteBuffer buffer, String what)
      throws CheckpointException {
    long at = position;
    try {
      while (buffer.hasRemaining()) {
        int n = channel.read(buffer, at);
        if (n < 0) {
          throw new CheckpointException(Kind.TRUNCATED,
              "unexpected end of file at byte " + at + " while reading "
                  + what + ": the file is truncated");
        }
        at += n;
      }
    } catch (CheckpointException e) {
      throw e;
    } catch (IOException e) {
      throw new CheckpointException(Kind.IO,
          "cannot read " + what + " at byte " + at + ": " + e.getMessage(),
          e);
    }
  }
}
