package io.ckpt4j.scan;

import io.ckpt4j.scan.GlobalUse.GlobalVerdict;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Collects what the scan of one file finds, then makes its {@link FileReport}. */
final class FileAudit {
  private final Path file;
  private final Map<String, GlobalUse> globals = new LinkedHashMap<>();
  private final Map<String, CallSite> calls = new LinkedHashMap<>();
  private final Map<String, Finding> findings = new LinkedHashMap<>();

  FileAudit(Path file) {
    this.file = file;
  }

  Path file() {
    return file;
  }

  /** Records a finding once per kind, place and detail. */
  void add(Finding finding) {
    findings.putIfAbsent(finding.kind() + "\0" + finding.where() + "\0" + finding.detail(),
        finding);
  }

  void add(FindingKind kind, String where, String detail) {
    add(Finding.of(kind, where, detail));
  }

  /** Records a global once, keeping the worse verdict when it is seen again. */
  void global(String name, GlobalVerdict verdict, String where) {
    GlobalUse seen = globals.get(name);
    if (seen == null || verdict.ordinal() > seen.verdict().ordinal()) {
      globals.put(name, new GlobalUse(name, verdict, seen == null ? where : seen.where()));
    }
  }

  /** Counts a call site (one per opcode, target and pickle; the first offset kept). */
  void call(String opcode, String target, String where, long offset) {
    calls.merge(opcode + "\0" + target + "\0" + where,
        new CallSite(opcode, target, where, offset, 1),
        (a, b) -> new CallSite(a.opcode(), a.target(), a.where(), a.offset(), a.count() + 1));
  }

  /** True when a finding so far makes the file unsafe. */
  boolean unsafe() {
    return verdict() == Verdict.UNSAFE;
  }

  Verdict verdict() {
    Verdict v = Verdict.SAFE;
    for (Finding f : findings.values()) v = v.worst(f.kind().verdict());
    return v;
  }

  FileReport report(String format, String loader) {
    return new FileReport(file, format, loader, new ArrayList<>(globals.values()),
        new ArrayList<>(calls.values()), List.copyOf(findings.values()), verdict());
  }
}
