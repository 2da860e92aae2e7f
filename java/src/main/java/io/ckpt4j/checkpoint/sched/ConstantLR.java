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
 * {@code ConstantLR(optimizer, factor=1/3, total_iters=5)}: lr times {@code factor} until epoch
 * {@code total_iters}, then back. State: {@code factor}, {@code total_iters}.
 */
public final class ConstantLR extends LRScheduler {
  /** Python's default {@code factor}. */
  public static final double DEFAULT_FACTOR = 1.0 / 3;
  /** Python's default {@code total_iters}. */
  public static final long DEFAULT_TOTAL_ITERS = 5;
  private static final String FACTOR = "factor";
  private static final String TOTAL_ITERS = "total_iters";
  private double factor;
  private long totalIters;

  public ConstantLR(Optimizer optimizer, double factor, long totalIters) {
    this(optimizer, factor, totalIters, -1);
  }

  public ConstantLR(Optimizer optimizer, double factor, long totalIters, long lastEpoch) {
    super(optimizer);
    if (factor > 1.0 || factor < 0) {
      throw new IllegalArgumentException(
          "Constant multiplicative factor expected to be between 0 and 1.");
    }
    this.factor = factor;
    this.totalIters = totalIters;
    init(lastEpoch);
  }

  @Override
  protected List<Double> getLr() {
    List<Double> lrs = groupValues(ParamGroup.LR);
    if (lastEpoch == 0) return scaled(lrs, factor);
    if (lastEpoch != totalIters) return lrs;
    return scaled(lrs, 1.0 / factor);
  }

  @Override
  protected List<Double> closedFormLr() {
    double reached = lastEpoch >= totalIters ? 1 : 0;
    return scaled(baseLrs, factor + reached * (1 - factor));
  }

  @Override
  protected void ownState(Map<String, Object> out) {
    out.put(FACTOR, factor);
    out.put(TOTAL_ITERS, totalIters);
  }

  @Override
  protected void loadOwnState(Map<String, Object> state, String where)
      throws CheckpointException {
    factor = getDouble(state, FACTOR, factor, where);
    totalIters = getLong(state, TOTAL_ITERS, totalIters, where);
  }

  @Override
  protected Set<String> ownKeys() {
    return Set.of(FACTOR, TOTAL_ITERS);
  }
}
