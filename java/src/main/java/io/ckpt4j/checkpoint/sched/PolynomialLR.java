package io.ckpt4j.checkpoint.sched;

import io.ckpt4j.CheckpointException;
import io.ckpt4j.checkpoint.PyValues;
import io.ckpt4j.checkpoint.optim.ParamGroup;
import io.ckpt4j.checkpoint.optim.ParamGroups;
import java.util.ArrayList;
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

  public PolynomialLR(ParamGroups optimizer, long totalIters, double power) {
    this(optimizer, totalIters, power, -1);
  }

  public PolynomialLR(ParamGroups optimizer, long totalIters, double power, long lastEpoch) {
    super(optimizer);
    this.totalIters = totalIters;
    this.power = power;
    init(lastEpoch);
  }

  @Override
  protected List<Double> getLr() {
    List<Double> lrs = groupValues(ParamGroup.LR);
    if (isInitial || lastEpoch > totalIters) return lrs;
    double decay = Math.pow((1.0 - (double) lastEpoch / totalIters)
        / (1.0 - (double) (lastEpoch - 1) / totalIters), power);
    List<Double> out = new ArrayList<>();
    for (double lr : lrs) out.add(lr * decay);
    return out;
  }

  @Override
  protected List<Double> closedFormLr() {
    List<Double> out = new ArrayList<>();
    for (double base : baseLrs) {
      out.add(base * Math.pow(1.0 - (double) Math.min(totalIters, lastEpoch) / totalIters, power));
    }
    return out;
  }

  @Override
  protected void ownState(Map<String, Object> out) {
    out.put(TOTAL_ITERS, totalIters);
    out.put(POWER, power);
  }

  @Override
  protected void loadOwnState(Map<String, Object> state, String where)
      throws CheckpointException {
    if (state.containsKey(TOTAL_ITERS)) {
      totalIters = PyValues.toLong(state.get(TOTAL_ITERS), where + " 'total_iters'");
    }
    if (state.containsKey(POWER)) power = PyValues.toDouble(state.get(POWER), where + " 'power'");
  }

  @Override
  protected Set<String> ownKeys() {
    return Set.of(TOTAL_ITERS, POWER);
  }
}
