package io.ckpt4j.scan;

/** What a scan concludes about a file, from best to worst for the exit code's precedence. */
public enum Verdict {
  /** Nothing beyond what torch's {@code weights_only=True} (and ckpt4j's default reader) allows. */
  SAFE("safe"),
  /**
   * Classes outside that set are constructed, none known dangerous, nothing else called (a whole
   * pickled model); or a genuine TorchScript archive, whose code runs under torch.jit.load.
   */
  REVIEW("review"),
  /** The scan stopped early or hit a limit: not known to be safe (fail closed). */
  INCOMPLETE("incomplete"),
  /** A dangerous or unknown callable is called, a container anomaly, or a size lie. */
  UNSAFE("unsafe");

  private final String word;

  Verdict(String word) {
    this.word = word;
  }

  /** The verdict as the report writes it. */
  public String word() {
    return word;
  }

  /** The worse of the two. */
  public Verdict worst(Verdict other) {
    return other.ordinal() > ordinal() ? other : this;
  }
}
