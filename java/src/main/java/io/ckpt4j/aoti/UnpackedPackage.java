package io.ckpt4j.aoti;

import io.ckpt4j.CheckpointException;
import io.ckpt4j.CheckpointException.Kind;
import io.ckpt4j.container.zip.ZipArchive;
import io.ckpt4j.layout.pt2.AotiPackage;
import io.ckpt4j.layout.pt2.Pt2Archive;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Comparator;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;

/**
 * The folder a load unpacks an AOTInductor model's files into, which ckpt4j owns: named
 * {@code ckpt4j-aoti-<pid>-<n>} under {@link AotiOptions#unpackDir()}, removed by {@link #delete}
 * (from {@link ExportedModel#close}), by a JVM shutdown hook for models left open, and, for a
 * process that died without either (a crash, kill -9), by the next load in any JVM, which removes
 * every such folder whose process is gone. (LibTorch's own {@code AOTIModelPackageLoader} unpacks
 * into {@code /tmp/aotinductor_*} folders that nothing removes if its destructor never runs.)
 */
final class UnpackedPackage {
  static final String PREFIX = "ckpt4j-aoti-";
  private static final Set<Path> OPEN = ConcurrentHashMap.newKeySet();

  static {
    Runtime.getRuntime().addShutdownHook(new Thread(() -> OPEN.forEach(UnpackedPackage::remove),
        "ckpt4j-aoti-cleanup"));
  }

  private final Path dir;
  private final Path library;

  private UnpackedPackage(Path dir, Path library) {
    this.dir = dir;
    this.library = library;
  }

  /** Removes stale folders of dead processes, then unpacks {@code pkg}'s records. */
  static UnpackedPackage unpack(Pt2Archive archive, AotiPackage pkg, Path parent)
      throws CheckpointException {
    removeStale(parent);
    Path dir;
    try {
      Files.createDirectories(parent);
      dir = Files.createTempDirectory(parent, PREFIX + ProcessHandle.current().pid() + "-");
    } catch (IOException e) {
      throw new CheckpointException(CheckpointException.ioKind(e), "cannot make a folder under "
          + parent + " to unpack " + archive.path() + " into: " + e.getMessage()
          + "; choose another with AotiOptions.unpackDir(dir)", e);
    }
    OPEN.add(dir);
    try {
      ZipArchive zip = archive.torch().archive();
      Path library = null;
      for (String record : pkg.records()) {
        String name = record.substring(pkg.dir().length());
        if (name.contains("/") || name.startsWith(".")) continue; // only the model's own files
        Path target = dir.resolve(name);
        ByteBuffer bytes = zip.read(archive.torch().requireRecord(record),
            ZipArchive.MAX_IN_MEMORY_ENTRY, "an AOTInductor file");
        try (FileChannel out = FileChannel.open(target, StandardOpenOption.CREATE_NEW,
            StandardOpenOption.WRITE)) {
          while (bytes.hasRemaining()) out.write(bytes);
        }
        if (record.equals(pkg.library())) library = target;
      }
      return new UnpackedPackage(dir, library);
    } catch (CheckpointException | RuntimeException e) {
      remove(dir);
      OPEN.remove(dir);
      throw e;
    } catch (IOException e) {
      remove(dir);
      OPEN.remove(dir);
      throw new CheckpointException(CheckpointException.ioKind(e), "cannot unpack "
          + archive.path() + " into " + dir + ": " + e.getMessage(), e);
    }
  }

  /** The folder. */
  Path dir() {
    return dir;
  }

  /** The compiled library, or null when the package has none. */
  Path library() {
    return library;
  }

  /** Removes the folder and everything in it. */
  void delete() {
    remove(dir);
    OPEN.remove(dir);
  }

  /** Removes every {@code ckpt4j-aoti-<pid>-*} folder under {@code parent} whose process ended. */
  static void removeStale(Path parent) {
    if (!Files.isDirectory(parent)) return;
    try (DirectoryStream<Path> entries = Files.newDirectoryStream(parent, PREFIX + "*")) {
      for (Path entry : entries) {
        Long pid = pid(entry.getFileName().toString());
        if (pid != null && ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)) {
          continue;
        }
        if (pid != null) remove(entry);
      }
    } catch (IOException | UncheckedIOException e) {
      // another user's folder, a race with another JVM: stale folders wait for the next load
    }
  }

  private static Long pid(String name) {
    String rest = name.substring(PREFIX.length());
    int dash = rest.indexOf('-');
    if (dash <= 0) return null;
    try {
      return Long.parseLong(rest.substring(0, dash));
    } catch (NumberFormatException e) {
      return null;
    }
  }

  private static void remove(Path dir) {
    try (Stream<Path> walk = Files.walk(dir)) {
      walk.sorted(Comparator.reverseOrder()).forEach(p -> {
        try {
          Files.deleteIfExists(p);
        } catch (IOException e) {
          // left for the next load's stale sweep
        }
      });
    } catch (IOException | UncheckedIOException e) {
      // already gone, or unreadable: left for the next load's stale sweep
    }
  }
}
