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
 * {@code PolynomialLR(optimizer, total_iters=5, power=1.0)}: the lr decays as
 * {@code (1 - epoch / total_iters) ** power}. State: {@code total_iters}, {@code power}.
 */
public final class PolynomialLR extends LRScheduler {
  private static final String TOTAL_ITERS = "total_iters";
  private static final String POWER = "power";
  private long totalIters;
  private double power;

  public PolynomialLR(Optimizer optimizer, long totalIters, double power) {
    this(optimizer, totalIters, power, -1);
  }

  public PolynomialLR(Optimizer optimizer, long totalIters, double power, long lastEpoch) {
    super(optimizer);
    this.totalIters = totalIters;
    this.power = power;
    init(lastEpoch);
  }

  @Override
  protected List<Double> getLr() {
    List<Double> lrs = groupValues(ParamGroup.LR);
    if (isInitial || lastEpoch > totalIters) return lrs;
    return scaled(lrs, Math.pow((1.0 - (double) lastEpoch / totalIters)
        / (1.0 - (double) (lastEpoch - 1) / totalIters), power));
  }

  @Override
  protected List<Double> closedFormLr() {
    return scaled(baseLrs,
        Math.pow(1.0 - (double) Math.min(totalIters, lastEpoch) / totalIters, power));
  }

  @Override
  protected void ownState(Map<String, Object> out) {
    out.put(TOTAL_ITERS, totalIters);
    out.put(POWER, power);
  }

  @Override
  protected void loadOwnState(Map<String, Object> state, String where)
      throws CheckpointException {
    totalIters = getLong(state, TOTAL_ITERS, totalIters, where);
    power = getDouble(state, POWER, power, where);
  }

  @Override
  protected Set<String> ownKeys() {
    return Set.of(TOTAL_ITERS, POWER);
  }
}
