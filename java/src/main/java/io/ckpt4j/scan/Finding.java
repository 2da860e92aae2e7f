package io.ckpt4j.scan;

import java.util.Objects;

/**
 * One thing a scan found: its kind, where (an entry, a pickle and byte offset), what exactly, and
 * what torch 2.13 does with the file because of it.
 */
public record Finding(FindingKind kind, String where, String detail, TorchBehaviour torch) {
  public Finding {
    Objects.requireNonNull(kind, "kind");
    Objects.requireNonNull(where, "where");
    Objects.requireNonNull(detail, "detail");
    Objects.requireNonNull(torch, "torch");
  }

  /** A finding with its kind's usual torch behaviour. */
  static Finding of(FindingKind kind, String where, String detail) {
    return new Finding(kind, where, detail, kind.torch());
  }
}
