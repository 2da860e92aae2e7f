package io.ckpt4j.scan;

import java.util.List;

/** The files one scan read, in order, and the verdict and exit code over all of them. */
public record ScanReport(List<FileReport> files) {
  /** Exit code when every file is safe. */
  public static final int EXIT_SAFE = 0;
  /** Exit code when any file is unsafe. */
  public static final int EXIT_UNSAFE = 1;
  /** Exit code when any file is incomplete (or could not be read), none unsafe. */
  public static final int EXIT_INCOMPLETE = 2;
  /** Exit code when any file needs review, none unsafe or incomplete. */
  public static final int EXIT_REVIEW = 3;

  public ScanReport {
    files = List.copyOf(files);
  }

  /** The worst verdict of any file; safe for no files. */
  public Verdict verdict() {
    Verdict worst = Verdict.SAFE;
    for (FileReport f : files) worst = worst.worst(f.verdict());
    return worst;
  }

  /** 0 all safe, 1 any unsafe, 2 any incomplete, 3 any review (1 wins over 2, 2 over 3). */
  public int exitCode() {
    return switch (verdict()) {
      case SAFE -> EXIT_SAFE;
      case REVIEW -> EXIT_REVIEW;
      case INCOMPLETE -> EXIT_INCOMPLETE;
      case UNSAFE -> EXIT_UNSAFE;
    };
  }
}
