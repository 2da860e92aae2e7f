package io.ckpt4j.checkpoint.sched;

import static io.ckpt4j.checkpoint.sched.StateEntries.getDouble;
import static io.ckpt4j.checkpoint.sched.StateEntries.getLong;

import io.ckpt4j.CheckpointException;
import io.ckpt4j.checkpoint.optim.Optimizer;
import io.ckpt4j.checkpoint.optim.ParamGroup;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * {@code LinearLR(optimizer, start_factor=1/3, end_factor=1.0, total_iters=5)}: the lr factor
 * moves linearly from {@code start_factor} to {@code end_factor} over {@code total_iters} epochs
 * (Python's chained form, one multiplication per step). State: {@code start_factor},
 * {@code end_factor}, {@code total_iters}.
 */
public final class LinearLR extends LRScheduler {
  /** Python's default {@code start_factor}. */
  public static final double DEFAULT_START_FACTOR = 1.0 / 3;
  /** Python's default {@code end_factor}. */
  public static final double DEFAULT_END_FACTOR = 1.0;
  /** Python's default {@code total_iters}. */
  public static final long DEFAULT_TOTAL_ITERS = 5;
  private static final String START_FACTOR = "start_factor";
  private static final String END_FACTOR = "end_factor";
  private static final String TOTAL_ITERS = "total_iters";
  private double startFactor;
  private double endFactor;
  private long totalIters;

  public LinearLR(Optimizer optimizer, double startFactor, double endFactor, long totalIters) {
    this(optimizer, startFactor, endFactor, totalIters, -1);
  }

  public LinearLR(Optimizer optimizer, double startFactor, double endFactor, long totalIters,
      long lastEpoch) {
    super(optimizer);
    if (startFactor > 1.0 || startFactor <= 0) {
      throw new IllegalArgumentException("Starting multiplicative factor expected to be greater"
          + " than 0 and less or equal to 1.");
    }
    if (endFactor > 1.0 || endFactor < 0) {
      throw new IllegalArgumentException(
          "Ending multiplicative factor expected to be between 0 and 1.");
    }
    this.startFactor = startFactor;
    this.endFactor = endFactor;
    this.totalIters = totalIters;
    init(lastEpoch);
  }

  @Override
  protected List<Double> getLr() {
    List<Double> lrs = groupValues(ParamGroup.LR);
    if (lastEpoch == 0) return scaled(lrs, startFactor);
    if (isInitial || lastEpoch > totalIters) return lrs;
    return scaled(lrs, 1.0 + (endFactor - startFactor)
        / (totalIters * startFactor + (lastEpoch - 1) * (endFactor - startFactor)));
  }

  @Override
  protected List<Double> closedFormLr() {
    return scaled(baseLrs, startFactor
        + (endFactor - startFactor) * Math.min(totalIters, lastEpoch) / totalIters);
  }

  @Override
  protected void ownState(Map<String, Object> out) {
    out.put(START_FACTOR, startFactor);
    out.put(END_FACTOR, endFactor);
    out.put(TOTAL_ITERS, totalIters);
  }

  @Override
  protected void loadOwnState(Map<String, Object> state, String where)
      throws CheckpointException {
    startFactor = getDouble(state, START_FACTOR, startFactor, where);
    endFactor = getDouble(state, END_FACTOR, endFactor, where);
    totalIters = getLong(state, TOTAL_ITERS, totalIters, where);
  }

  @Override
  protected Set<String> ownKeys() {
    return Set.of(START_FACTOR, END_FACTOR, TOTAL_ITERS);
  }
}
