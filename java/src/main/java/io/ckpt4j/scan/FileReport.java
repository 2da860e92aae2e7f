package io.ckpt4j.scan;

import java.nio.file.Path;
import java.util.List;
import java.util.Objects;

/**
 * What a scan found in one file: its format by content, the loader torch would hand it to, the
 * globals and call sites of its pickles, the findings, and the verdict (the worst a finding
 * implies).
 */
public record FileReport(Path path, String format, String loader, List<GlobalUse> globals,
    List<CallSite> calls, List<Finding> findings, Verdict verdict) {
  public FileReport {
    Objects.requireNonNull(path, "path");
    Objects.requireNonNull(format, "format");
    Objects.requireNonNull(loader, "loader");
    globals = List.copyOf(globals);
    calls = List.copyOf(calls);
    findings = List.copyOf(findings);
    Objects.requireNonNull(verdict, "verdict");
  }

  /** The first finding of {@code kind}, or null. */
  public Finding finding(FindingKind kind) {
    return findings.stream().filter(f -> f.kind() == kind).findFirst().orElse(null);
  }
}
