package io.ckpt4j.container.zip;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.NonWritableChannelException;
import java.nio.channels.ReadableByteChannel;
import java.nio.channels.WritableByteChannel;

/**
 * A read-only view of bytes {@code [base, base + length)} of another file channel, as a channel of
 * its own whose position 0 is {@code base}: how a zip archive embedded in a larger file (each
 * record of a torch.distributed.checkpoint {@code .distcp} file is a whole {@code torch.save}
 * archive) is read by the ordinary zip reader. Reads past the window's end see end of file. It
 * owns the channel it views: closing it closes that one.
 */
final class WindowChannel extends FileChannel {
  private final FileChannel file;
  private final long base;
  private final long length;
  private long position;

  WindowChannel(FileChannel file, long base, long length) {
    this.file = file;
    this.base = base;
    this.length = length;
  }

  @Override
  public int read(ByteBuffer dst) throws IOException {
    int n = read(dst, position);
    if (n > 0) position += n;
    return n;
  }

  @Override
  public long read(ByteBuffer[] dsts, int offset, int count) throws IOException {
    long total = 0;
    for (int i = offset; i < offset + count; i++) {
      int n = read(dsts[i]);
      if (n < 0) return total == 0 ? -1 : total;
      total += n;
      if (dsts[i].hasRemaining()) break;
    }
    return total;
  }

  @Override
  public int read(ByteBuffer dst, long at) throws IOException {
    if (at < 0) throw new IllegalArgumentException("negative position " + at);
    if (at >= length) return -1;
    int room = (int) Math.min(dst.remaining(), length - at);
    ByteBuffer slice = dst.duplicate();
    slice.limit(slice.position() + room);
    int n = file.read(slice, base + at);
    if (n > 0) dst.position(dst.position() + n);
    return n;
  }

  @Override
  public long position() {
    return position;
  }

  @Override
  public FileChannel position(long newPosition) {
    if (newPosition < 0) throw new IllegalArgumentException("negative position " + newPosition);
    position = newPosition;
    return this;
  }

  @Override
  public long size() {
    return length;
  }

  @Override
  public MappedByteBuffer map(MapMode mode, long at, long size) throws IOException {
    if (mode != MapMode.READ_ONLY || at < 0 || size < 0 || at > length - size) {
      throw new IllegalArgumentException("read-only maps inside the window only");
    }
    return file.map(mode, base + at, size);
  }

  @Override
  public int write(ByteBuffer src) {
    throw new NonWritableChannelException();
  }

  @Override
  public long write(ByteBuffer[] srcs, int offset, int count) {
    throw new NonWritableChannelException();
  }

  @Override
  public int write(ByteBuffer src, long at) {
    throw new NonWritableChannelException();
  }

  @Override
  public FileChannel truncate(long size) {
    throw new NonWritableChannelException();
  }

  @Override
  public void force(boolean metaData) {
    // read-only: nothing to flush
  }

  @Override
  public long transferTo(long at, long count, WritableByteChannel target) {
    throw new UnsupportedOperationException("a window channel is read with read()");
  }

  @Override
  public long transferFrom(ReadableByteChannel src, long at, long count) {
    throw new NonWritableChannelException();
  }

  @Override
  public FileLock lock(long at, long size, boolean shared) {
    throw new UnsupportedOperationException("a window channel takes no locks");
  }

  @Override
  public FileLock tryLock(long at, long size, boolean shared) {
    throw new UnsupportedOperationException("a window channel takes no locks");
  }

  @Override
  protected void implCloseChannel() throws IOException {
    file.close();
  }
}
