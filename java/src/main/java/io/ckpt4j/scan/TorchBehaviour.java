package io.ckpt4j.scan;

import java.util.Objects;

/**
 * What torch 2.13 does with a file that holds a finding: {@code torch.load(weights_only=True)}
 * and {@code torch.load(weights_only=False)}.
 */
public record TorchBehaviour(TorchReaction weightsOnly, TorchReaction full) {
  /** Both load it: the trick fools tools, not torch. */
  static final TorchBehaviour LOADS = new TorchBehaviour(TorchReaction.LOADS, TorchReaction.LOADS);
  /** Both refuse it. */
  static final TorchBehaviour REFUSES =
      new TorchBehaviour(TorchReaction.REFUSES, TorchReaction.REFUSES);
  /** weights_only=True refuses it; the default of old torch runs its code. */
  static final TorchBehaviour RUNS_UNLESS_WEIGHTS_ONLY =
      new TorchBehaviour(TorchReaction.REFUSES, TorchReaction.RUNS_CODE);
  /** weights_only=True refuses it; weights_only=False loads it (a whole pickled model). */
  static final TorchBehaviour LOADS_UNLESS_WEIGHTS_ONLY =
      new TorchBehaviour(TorchReaction.REFUSES, TorchReaction.LOADS);

  public TorchBehaviour {
    Objects.requireNonNull(weightsOnly, "weightsOnly");
    Objects.requireNonNull(full, "full");
  }

  /** "torch 2.13: torch.load(weights_only=True) refuses it; weights_only=False runs ...". */
  public String words() {
    return "torch 2.13: torch.load(weights_only=True) " + weightsOnly.words()
        + "; torch.load(weights_only=False) " + full.words();
  }
}
