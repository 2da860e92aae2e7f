package io.ckpt4j.fs;

import io.ckpt4j.OwnedResource;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * Early write-back for a durable save: while the new file is being written, a background thread
 * flushes what is written so far to the disk every {@link #INTERVAL_MILLIS} ms, so the disk works
 * while the CPU copies and the final fsync finds little left to do. Flush errors are left to that
 * final fsync, which reports them.
 */
final class WriteBack extends OwnedResource {
  /**
   * How often the written part is flushed: often enough that a 250 MB save overlaps its flush with
   * its writes; a save shorter than this never flushes early.
   */
  static final long INTERVAL_MILLIS = 25;

  private final FileChannel channel;
  private final CountDownLatch done = new CountDownLatch(1);
  private final Thread thread;

  private WriteBack(FileChannel channel) {
    this.channel = channel;
    this.thread = new Thread(this::run, "ckpt4j-write-back");
    thread.setDaemon(true);
    thread.start();
  }

  /** Starts flushing {@code file}; null (nothing to stop) if it cannot be opened. */
  static WriteBack start(Path file) {
    try {
      return new WriteBack(FileChannel.open(file, StandardOpenOption.WRITE));
    } catch (IOException | UnsupportedOperationException | SecurityException e) {
      return null; // the final fsync still makes the file durable
    }
  }

  private void run() {
    try {
      while (!done.await(INTERVAL_MILLIS, TimeUnit.MILLISECONDS)) {
        channel.force(false);
      }
    } catch (IOException | InterruptedException e) {
      // Stop flushing early; the final fsync reports real errors.
    }
  }

  /** Stops the flushing (waits for a flush in progress) and closes its channel. */
  @Override
  protected void releaseResources() {
    done.countDown();
    boolean interrupted = false;
    while (true) {
      try {
        thread.join();
        break;
      } catch (InterruptedException e) {
        interrupted = true;
      }
    }
    try {
      channel.close();
    } catch (IOException e) {
      // nothing was written through this channel
    }
    if (interrupted) Thread.currentThread().interrupt();
  }
}
