package io.ckpt4j.checkpoint.sched;

import static io.ckpt4j.checkpoint.sched.StateEntries.getDouble;

import io.ckpt4j.CheckpointException;
import io.ckpt4j.checkpoint.optim.Optimizer;
import io.ckpt4j.checkpoint.optim.ParamGroup;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * {@code ExponentialLR(optimizer, gamma)}: lr times {@code gamma} every epoch. State:
 * {@code gamma}.
 */
public final class ExponentialLR extends LRScheduler {
  private static final String GAMMA = "gamma";
  private double gamma;

  public ExponentialLR(Optimizer optimizer, double gamma) {
    this(optimizer, gamma, -1);
  }

  public ExponentialLR(Optimizer optimizer, double gamma, long lastEpoch) {
    super(optimizer);
    this.gamma = gamma;
    init(lastEpoch);
  }

  @Override
  protected List<Double> getLr() {
    // Python: the initial step of a resumed scheduler must not move the lr one step ahead
    List<Double> lrs = groupValues(ParamGroup.LR);
    return isInitial ? lrs : scaled(lrs, gamma);
  }

  @Override
  protected List<Double> closedFormLr() {
    return scaled(baseLrs, Math.pow(gamma, lastEpoch));
  }

  @Override
  protected void ownState(Map<String, Object> out) {
    out.put(GAMMA, gamma);
  }

  @Override
  protected void loadOwnState(Map<String, Object> state, String where)
      throws CheckpointException {
    gamma = getDouble(state, GAMMA, gamma, where);
  }

  @Override
  protected Set<String> ownKeys() {
    return Set.of(GAMMA);
  }
}
