package io.ckpt4j.fs;

import io.ckpt4j.CheckpointException;
import io.ckpt4j.CheckpointException.Kind;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.HexFormat;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Replaces a file so that, whatever kills the process, the path holds either the complete old
 * file or the complete new one: the new file is written to a temporary file in the same
 * directory, fsynced, renamed over the target in one atomic step, and the directory is fsynced so
 * the rename itself survives a power loss. While the new file is written, a {@link WriteBack}
 * thread flushes it to the disk as it grows, so the final fsync has little left to wait for.
 * Without fsync (the caller's choice) the replacement is still atomic for a killed
 * process.
 *
 * <p>A symbolic link at the target is followed: the file it points to is replaced and the link
 * kept, as writing through it would. The new file takes the old one's POSIX permissions.
 *
 * <p>Temporary files are named {@code .<name>.ckpt4j-<pid>-<random>.tmp}. A write that fails is
 * removed at once. A write whose process is killed leaves its temporary file behind; the next
 * save to the same target deletes such leftovers whose process ({@code <pid>}) no longer runs on
 * this machine. (On a directory shared by several machines a leftover of a live writer elsewhere
 * could match a dead local pid: that writer's rename then fails with an error, and the target
 * still holds a complete file.)
 */
public final class AtomicFile {
  static final String MARKER = ".ckpt4j-";
  static final String SUFFIX = ".tmp";
  /** Bytes of the target's name kept in the temporary name (names are at most 255 bytes). */
  private static final int MAX_NAME_BYTES = 128;
  private static final int RANDOM_BYTES = 8;
  private static final int CREATE_ATTEMPTS = 8;
  /** Symbolic links followed at most, as Linux's MAXSYMLINKS. */
  private static final int MAX_LINKS = 40;

  /** Writes the new file's contents. */
  @FunctionalInterface
  public interface Contents {
    void writeTo(Path temp) throws CheckpointException;
  }

  private AtomicFile() {}

  /** Replaces {@code target} with what {@code contents} writes. */
  public static void write(Path target, boolean fsync, Contents contents) throws CheckpointException {
    Path file = resolveLink(target);
    Path dir = file.toAbsolutePath().getParent();
    if (Files.isDirectory(file)) {
      throw refusal(Kind.IO, target, "it is a directory");
    }
    if (dir == null || !Files.isDirectory(dir)) {
      throw refusal(Kind.NOT_FOUND, target, "directory " + dir
          + " does not exist; create it first");
    }
    String prefix = "." + truncate(file.getFileName().toString()) + MARKER;
    deleteLeftovers(dir, prefix);
    Path temp = createTemp(dir, prefix, target, false);
    try {
      copyPermissions(file, temp);
      try (WriteBack flushing = fsync ? WriteBack.start(temp) : null) {
        contents.writeTo(temp);
      }
      if (fsync) force(temp, target);
      Files.move(temp, file, StandardCopyOption.ATOMIC_MOVE);
    } catch (CheckpointException e) {
      deleteQuietly(temp, e);
      throw e;
    } catch (AtomicMoveNotSupportedException e) {
      deleteQuietly(temp, e);
      throw refusal(Kind.IO, target, "the file system of " + dir
          + " cannot rename atomically, which ckpt4j needs to replace the file safely", e);
    } catch (IOException | RuntimeException e) {
      deleteQuietly(temp, e);
      throw refusal(Kind.IO, target, CheckpointException.firstLine(e), e);
    }
    if (fsync) forceDirectory(dir, target);
  }

  /** A failure to save to {@code target}: "cannot save to TARGET: DETAIL". */
  private static CheckpointException refusal(Kind kind, Path target, String detail) {
    return refusal(kind, target, detail, null);
  }

  static CheckpointException refusal(
      Kind kind, Path target, String detail, Throwable cause) {
    return new CheckpointException(kind, detail, cause).at("cannot save to " + target);
  }

  /** The file a chain of symbolic links at {@code target} points to (which may not exist yet). */
  private static Path resolveLink(Path target) throws CheckpointException {
    Path file = target;
    try {
      for (int i = 0; i < MAX_LINKS && Files.isSymbolicLink(file); i++) {
        Path parent = file.toAbsolutePath().getParent();
        file = parent.resolve(Files.readSymbolicLink(file));
      }
    } catch (IOException | UnsupportedOperationException | SecurityException e) {
      throw refusal(Kind.IO, target, "cannot read the symbolic link"
          + " (" + e + ")", e);
    }
    if (Files.isSymbolicLink(file)) {
      throw refusal(Kind.IO, target, "more than " + MAX_LINKS
          + " symbolic links in a row (a loop?)");
    }
    return file;
  }

  /** A new temporary file (or, {@code directory}, an empty directory) in {@code dir}. */
  static Path createTemp(Path dir, String prefix, Path target, boolean directory)
      throws CheckpointException {
    long pid = ProcessHandle.current().pid();
    byte[] random = new byte[RANDOM_BYTES];
    IOException last = null;
    for (int attempt = 0; attempt < CREATE_ATTEMPTS; attempt++) {
      ThreadLocalRandom.current().nextBytes(random);
      Path temp = dir.resolve(prefix + pid + "-" + HexFormat.of().formatHex(random) + SUFFIX);
      try {
        return directory ? Files.createDirectory(temp) : Files.createFile(temp);
      } catch (FileAlreadyExistsException e) {
        last = e;
      } catch (IOException | UnsupportedOperationException | SecurityException e) {
        throw refusal(Kind.IO, target, "cannot create a temporary"
            + " file in " + dir + " (" + e + "); check that the directory is writable", e);
      }
    }
    throw refusal(Kind.IO, target, "no free temporary file name in "
        + dir + " after " + CREATE_ATTEMPTS + " attempts", last);
  }

  /** Temporary files (or directories) of earlier saves to this target whose process is gone. */
  static void deleteLeftovers(Path dir, String prefix) {
    long self = ProcessHandle.current().pid();
    DirectoryStream.Filter<Path> ours = p -> {
      String name = p.getFileName().toString();
      return name.length() > prefix.length() + SUFFIX.length() && name.startsWith(prefix)
          && name.endsWith(SUFFIX);
    };
    try (DirectoryStream<Path> entries = Files.newDirectoryStream(dir, ours)) {
      for (Path entry : entries) {
        String name = entry.getFileName().toString();
        String rest = name.substring(prefix.length(), name.length() - SUFFIX.length());
        int dash = rest.indexOf('-');
        if (dash <= 0) continue;
        long pid;
        try {
          pid = Long.parseLong(rest.substring(0, dash));
        } catch (NumberFormatException e) {
          continue; // not one of ours
        }
        if (pid != self && ProcessHandle.of(pid).isEmpty()) deleteTree(entry);
      }
    } catch (IOException | RuntimeException e) {
      // Best effort: a leftover we cannot list or delete does not stop this save.
    }
  }

  /** Deletes {@code path}, and everything in it when it is a directory (links not followed). */
  static void deleteTree(Path path) throws IOException {
    if (Files.isDirectory(path, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
      try (DirectoryStream<Path> entries = Files.newDirectoryStream(path)) {
        for (Path entry : entries) deleteTree(entry);
      }
    }
    Files.deleteIfExists(path);
  }

  private static void copyPermissions(Path from, Path to) {
    try {
      if (Files.exists(from)) Files.setPosixFilePermissions(to, Files.getPosixFilePermissions(from));
    } catch (IOException | UnsupportedOperationException | SecurityException e) {
      // Not a POSIX file system, or not ours to read: the new file keeps default permissions.
    }
  }

  static void force(Path temp, Path target) throws CheckpointException {
    try (FileChannel channel = FileChannel.open(temp, StandardOpenOption.WRITE)) {
      channel.force(true);
    } catch (IOException e) {
      throw refusal(Kind.IO, target, "fsync of the new file failed ("
          + e + "); the old file is unchanged", e);
    }
  }

  /** fsync of the directory, so the rename is durable; skipped where directories cannot be opened. */
  static void forceDirectory(Path dir, Path target) throws CheckpointException {
    FileChannel channel;
    try {
      channel = FileChannel.open(dir, StandardOpenOption.READ);
    } catch (IOException e) {
      return; // e.g. Windows: a directory cannot be opened, and renames are journaled anyway
    }
    try (channel) {
      channel.force(true);
    } catch (IOException e) {
      throw new CheckpointException(Kind.IO, "saved " + target + ", but the fsync of directory "
          + dir + " failed (" + e + "): the new file may not survive a power loss", e);
    }
  }

  private static void deleteQuietly(Path temp, Exception cause) {
    try {
      Files.deleteIfExists(temp);
    } catch (IOException e) {
      cause.addSuppressed(e);
    }
  }

  /** At most {@link #MAX_NAME_BYTES} UTF-8 bytes of {@code name}, cut at a code point. */
  static String truncate(String name) {
    if (name.getBytes(StandardCharsets.UTF_8).length <= MAX_NAME_BYTES) return name;
    StringBuilder out = new StringBuilder();
    int bytes = 0;
    for (int i = 0; i < name.length(); ) {
      int cp = name.codePointAt(i);
      int n = new String(Character.toChars(cp)).getBytes(StandardCharsets.UTF_8).length;
      if (bytes + n > MAX_NAME_BYTES) break;
      out.appendCodePoint(cp);
      bytes += n;
      i += Character.charCount(cp);
    }
    return out.toString();
  }
}
