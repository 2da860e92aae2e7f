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
 * {@code StepLR(optimizer, step_size, gamma=0.1)}: multiplies each group's lr by {@code gamma}
 * every {@code step_size} epochs. State: {@code step_size}, {@code gamma}, then the base fields.
 */
public final class StepLR extends LRScheduler {
  private static final String STEP_SIZE = "step_size";
  private static final String GAMMA = "gamma";
  /** Python's default {@code gamma}. */
  public static final double DEFAULT_GAMMA = 0.1;
  private long stepSize;
  private double gamma;

  public StepLR(Optimizer optimizer, long stepSize, double gamma) {
    this(optimizer, stepSize, gamma, -1);
  }

  public StepLR(Optimizer optimizer, long stepSize, double gamma, long lastEpoch) {
    super(optimizer);
    this.stepSize = stepSize;
    this.gamma = gamma;
    init(lastEpoch);
  }

  @Override
  protected List<Double> getLr() {
    List<Double> lrs = groupValues(ParamGroup.LR);
    return lastEpoch == 0 || pyMod(lastEpoch, stepSize) != 0 ? lrs : scaled(lrs, gamma);
  }

  @Override
  protected List<Double> closedFormLr() {
    return scaled(baseLrs, Math.pow(gamma, pyFloorDiv(lastEpoch, stepSize)));
  }

  @Override
  protected void ownState(Map<String, Object> out) {
    out.put(STEP_SIZE, stepSize);
    out.put(GAMMA, gamma);
  }

  @Override
  protected void loadOwnState(Map<String, Object> state, String where)
      throws CheckpointException {
    stepSize = getLong(state, STEP_SIZE, stepSize, where);
    gamma = getDouble(state, GAMMA, gamma, where);
  }

  @Override
  protected Set<String> ownKeys() {
    return Set.of(STEP_SIZE, GAMMA);
  }
}
