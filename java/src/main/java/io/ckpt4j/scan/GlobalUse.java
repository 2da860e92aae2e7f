package io.ckpt4j.scan;

import java.util.Objects;

/** A global a file's pickles reference, how ckpt4j judges it, and the pickle naming it first. */
public record GlobalUse(String name, GlobalVerdict verdict, String where) {
  /** How a scan judges a global. */
  public enum GlobalVerdict {
    /** torch's weights_only=True accepts it (or one of Python's harmless builtins). */
    ALLOWED("allowed by weights_only"),
    /** Outside that set; ckpt4j reads it as an inert object (a class of a whole model). */
    INERT_OBJECT("inert object"),
    /** It runs code or reaches the system. */
    DANGEROUS("dangerous"),
    /** A function that is neither allowed nor a known reconstructor, and is called. */
    UNKNOWN("unknown");

    private final String words;

    GlobalVerdict(String words) {
      this.words = words;
    }

    /** The verdict as the report writes it. */
    public String words() {
      return words;
    }
  }

  public GlobalUse {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(verdict, "verdict");
    Objects.requireNonNull(where, "where");
  }
}
