package io.ckpt4j.scan;

/** What torch 2.13's {@code torch.load} does with a file, as the scan report says it. */
public enum TorchReaction {
  /** It loads the file. */
  LOADS("loads it"),
  /** It refuses the file with an error. */
  REFUSES("refuses it"),
  /** It runs the code the file holds. */
  RUNS_CODE("runs the code in it");

  private final String words;

  TorchReaction(String words) {
    this.words = words;
  }

  /** The reaction in words. */
  public String words() {
    return words;
  }
}
