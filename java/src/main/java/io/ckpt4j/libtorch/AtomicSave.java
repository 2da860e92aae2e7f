package io.ckpt4j.libtorch;

import io.ckpt4j.CheckpointException;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;

/**
 * Writes a file that LibTorch produces from a path, atomically: LibTorch writes into a fresh
 * folder next to the target (same file system, same file name, so the archive's root folder is
 * named after the target as a direct save would name it), the file is synced, renamed over the
 * target in one step, and the directory is synced. The target holds the old file or the new one,
 * never a partial one.
 */
final class AtomicSave {
  private static final String TEMP_PREFIX = ".ckpt4j-save-";

  /** Writes the file at the path it is given (LibTorch's save_to / save). */
  @FunctionalInterface
  interface Writer {
    void write(Path file) throws CheckpointException;
  }

  private AtomicSave() {}

  static void write(Path target, String what, Writer writer) throws CheckpointException {
    Path absolute = target.toAbsolutePath();
    Path dir = absolute.getParent();
    Path tempDir;
    try {
      tempDir = Files.createTempDirectory(dir, TEMP_PREFIX);
    } catch (IOException e) {
      throw new CheckpointException("cannot write " + what + " to " + target + ": " + e, e);
    }
    Path temp = tempDir.resolve(absolute.getFileName());
    try {
      writer.write(temp);
      try (FileChannel channel = FileChannel.open(temp, StandardOpenOption.WRITE)) {
        channel.force(true);
      }
      try {
        Files.move(temp, absolute, StandardCopyOption.ATOMIC_MOVE,
            StandardCopyOption.REPLACE_EXISTING);
      } catch (AtomicMoveNotSupportedException e) {
        throw new CheckpointException("cannot write " + what + " to " + target + ": the file"
            + " system cannot rename atomically", e);
      }
      syncDirectory(dir);
    } catch (IOException e) {
      if (e instanceof CheckpointException c) throw c;
      throw new CheckpointException("cannot write " + what + " to " + target + ": " + e, e);
    } finally {
      try {
        Files.deleteIfExists(temp);
        Files.deleteIfExists(tempDir);
      } catch (IOException ignored) {
        // a leftover empty temp folder is harmless; the save itself succeeded or failed above
      }
    }
  }

  private static void syncDirectory(Path dir) {
    try (FileChannel channel = FileChannel.open(dir, StandardOpenOption.READ)) {
      channel.force(true);
    } catch (IOException ignored) {
      // some platforms cannot open a directory for sync; the rename is still atomic
    }
  }
}
