package io.ckpt4j.layout.dcp;

import io.ckpt4j.CheckpointException;
import io.ckpt4j.CheckpointException.Kind;
import java.nio.file.Files;
import java.nio.file.Path;

/** The names in a DCP directory, as torch 2.13's {@code filesystem.py} writes them. */
public final class DcpLayout {
  /** {@code _metadata_fn}: the pickled {@code Metadata}, written last (temp file + rename). */
  public static final String METADATA_FILE = ".metadata";
  /** {@code DEFAULT_SUFFIX} of the data files. */
  public static final String DATA_SUFFIX = ".distcp";
  /** {@code CURRENT_DCP_VERSION}: the {@code Metadata.version} torch 2.13 writes. */
  public static final String VERSION = "1.0.0";
  /** The data file name prefix, {@code _StoragePrefix(f"__{rank}_")}. */
  private static final String PREFIX = "__";
  private static final char SEPARATOR = '_';

  private DcpLayout() {}

  /**
   * The {@code n}-th data file of {@code rank}: {@code __0_0.distcp}, as {@code dcp.save} in a
   * process group names them (one file per rank with the default {@code thread_count=1}).
   */
  public static String dataFileName(int rank, int n) {
    return PREFIX + rank + SEPARATOR + n + DATA_SUFFIX;
  }

  /** Whether {@code file}'s name is {@code .metadata}. */
  public static boolean isMetadataName(Path file) {
    Path name = file.getFileName();
    return name != null && name.toString().equals(METADATA_FILE);
  }

  /** Whether {@code file}'s name ends in {@code .distcp}: one data file of a DCP directory. */
  public static boolean isDataFileName(Path file) {
    Path name = file.getFileName();
    return name != null && name.toString().endsWith(DATA_SUFFIX);
  }

  /** The {@code .metadata} of directory {@code dir}, or null when it has none. */
  public static Path metadataIn(Path dir) {
    Path metadata = dir.resolve(METADATA_FILE);
    return Files.isRegularFile(metadata) ? metadata : null;
  }

  /**
   * The data file {@code relativePath} of the checkpoint in {@code dir}: a plain file name, as
   * DCP writes it (a path that leaves the directory is refused).
   */
  public static Path dataFile(Path dir, String relativePath, String fqn)
      throws CheckpointException {
    if (relativePath.isEmpty() || relativePath.equals(".") || relativePath.equals("..")
        || relativePath.indexOf('/') >= 0 || relativePath.indexOf('\\') >= 0
        || relativePath.indexOf('\0') >= 0) {
      throw new CheckpointException(Kind.MALFORMED_CONTAINER,
          "the .metadata of " + dir + " puts '" + fqn + "' in file '" + relativePath
          + "', which is not a file name in the checkpoint's directory: corrupt or tampered"
          + " metadata; save the checkpoint again");
    }
    return dir.resolve(relativePath);
  }
}
