package io.ckpt4j.fs;

import io.ckpt4j.CheckpointException;
import io.ckpt4j.CheckpointException.Kind;
import java.io.IOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.function.Predicate;

/**
 * Writes a directory of files so that a killed writer leaves nothing at the target that looks
 * complete: the files are written into a temporary sibling directory
 * ({@code .<name>.ckpt4j-<pid>-<random>.tmp}, as {@link AtomicFile} names its temporary files),
 * fsynced when asked, and the directory is renamed to the target in one step. A target that
 * already exists (and that the caller's test accepts as replaceable) is first renamed aside to
 * another such name and deleted after the new one is in place; a kill between those two renames
 * leaves no target at all, and the next write deletes the leftovers of processes that are gone.
 */
public final class AtomicDirectory {
  private AtomicDirectory() {}

  /** Writes the files of the new directory into {@code temp}, an empty directory. */
  @FunctionalInterface
  public interface Contents {
    void writeTo(Path temp) throws CheckpointException;
  }

  /**
   * Replaces directory {@code target} with what {@code contents} writes. An existing target must
   * be a directory that is empty or that {@code replaceable} accepts.
   */
  public static void write(Path target, boolean fsync, Predicate<Path> replaceable,
      Contents contents) throws CheckpointException {
    Path absolute = target.toAbsolutePath();
    Path dir = absolute.getParent();
    if (dir == null || !Files.isDirectory(dir)) {
      throw AtomicFile.refusal(Kind.NOT_FOUND, target, "directory " + dir
          + " does not exist; create it first", null);
    }
    if (Files.exists(absolute) && !(Files.isDirectory(absolute)
        && (isEmpty(absolute, target) || replaceable.test(absolute)))) {
      throw AtomicFile.refusal(Kind.IO, target, "it exists and is not a checkpoint directory of"
          + " this kind; delete it or name a new directory", null);
    }
    String prefix = "." + AtomicFile.truncate(absolute.getFileName().toString())
        + AtomicFile.MARKER;
    AtomicFile.deleteLeftovers(dir, prefix);
    Path temp = AtomicFile.createTemp(dir, prefix, target, true);
    try {
      contents.writeTo(temp);
      if (fsync) forceAll(temp, target);
      if (Files.exists(absolute)) {
        Path old = AtomicFile.createTemp(dir, prefix, target, true);
        Files.delete(old);
        Files.move(absolute, old, StandardCopyOption.ATOMIC_MOVE);
        Files.move(temp, absolute, StandardCopyOption.ATOMIC_MOVE);
        AtomicFile.deleteTree(old);
      } else {
        Files.move(temp, absolute, StandardCopyOption.ATOMIC_MOVE);
      }
    } catch (CheckpointException e) {
      deleteQuietly(temp, e);
      throw e;
    } catch (AtomicMoveNotSupportedException e) {
      deleteQuietly(temp, e);
      throw AtomicFile.refusal(Kind.IO, target, "the file system of " + dir
          + " cannot rename atomically, which ckpt4j needs to replace the directory safely", e);
    } catch (IOException | RuntimeException e) {
      deleteQuietly(temp, e);
      throw AtomicFile.refusal(Kind.IO, target, CheckpointException.firstLine(e), e);
    }
    if (fsync) AtomicFile.forceDirectory(dir, target);
  }

  private static boolean isEmpty(Path dir, Path target) {
    try (DirectoryStream<Path> entries = Files.newDirectoryStream(dir)) {
      return !entries.iterator().hasNext();
    } catch (IOException e) {
      return false;
    }
  }

  /** fsync of every file written and of the temporary directory itself. */
  private static void forceAll(Path temp, Path target) throws CheckpointException, IOException {
    try (DirectoryStream<Path> entries = Files.newDirectoryStream(temp)) {
      for (Path entry : entries) {
        if (Files.isRegularFile(entry)) AtomicFile.force(entry, target);
      }
    }
    AtomicFile.forceDirectory(temp, target);
  }

  private static void deleteQuietly(Path temp, Exception cause) {
    try {
      AtomicFile.deleteTree(temp);
    } catch (IOException e) {
      cause.addSuppressed(e);
    }
  }
}
