package io.ckpt4j.checkpoint.sched;

import static io.ckpt4j.checkpoint.sched.StateEntries.getDouble;

import io.ckpt4j.CheckpointException;
import io.ckpt4j.checkpoint.optim.Optimizer;
import io.ckpt4j.checkpoint.optim.ParamGroup;
import io.ckpt4j.value.PyCounter;
import io.ckpt4j.value.PyValues;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * {@code MultiStepLR(optimizer, milestones, gamma=0.1)}: lr times {@code gamma ** k} at a
 * milestone listed {@code k} times. State: {@code milestones} (a {@code collections.Counter} in
 * Python, written as one: see {@link PyCounter}), {@code gamma}.
 */
public final class MultiStepLR extends LRScheduler {
  private static final String MILESTONES = "milestones";
  private static final String GAMMA = "gamma";
  /** Python's default {@code gamma}. */
  public static final double DEFAULT_GAMMA = 0.1;
  private LinkedHashMap<Long, Long> milestones = new LinkedHashMap<>();
  private double gamma;

  public MultiStepLR(Optimizer optimizer, List<Long> milestones, double gamma) {
    this(optimizer, milestones, gamma, -1);
  }

  public MultiStepLR(Optimizer optimizer, List<Long> milestones, double gamma, long lastEpoch) {
    super(optimizer);
    for (Long m : milestones) this.milestones.merge(m, 1L, Long::sum);
    this.gamma = gamma;
    init(lastEpoch);
  }

  @Override
  protected List<Double> getLr() {
    List<Double> lrs = groupValues(ParamGroup.LR);
    Long count = milestones.get(lastEpoch);
    return count == null ? lrs : scaled(lrs, Math.pow(gamma, count));
  }

  @Override
  protected List<Double> closedFormLr() {
    long passed = 0; // bisect_right(sorted(milestones.elements()), last_epoch)
    for (Map.Entry<Long, Long> m : milestones.entrySet()) {
      if (m.getKey() <= lastEpoch) passed += m.getValue();
    }
    return scaled(baseLrs, Math.pow(gamma, passed));
  }

  @Override
  protected void ownState(Map<String, Object> out) {
    out.put(MILESTONES, PyCounter.ofCounts(milestones));
    out.put(GAMMA, gamma);
  }

  @Override
  protected void loadOwnState(Map<String, Object> state, String where)
      throws CheckpointException {
    if (state.containsKey(MILESTONES)) {
      LinkedHashMap<Long, Long> loaded = new LinkedHashMap<>();
      Object raw = state.get(MILESTONES);
      Map<?, ?> counts = raw instanceof PyCounter c ? c.counts()
          : PyValues.toMap(raw, where + " 'milestones'");
      for (Map.Entry<?, ?> e : counts.entrySet()) {
        loaded.put(PyValues.toLong(e.getKey(), where + " 'milestones' key"),
            PyValues.toLong(e.getValue(), where + " 'milestones' count"));
      }
      milestones = loaded;
    }
    gamma = getDouble(state, GAMMA, gamma, where);
  }

  @Override
  protected Set<String> ownKeys() {
    return Set.of(MILESTONES, GAMMA);
  }
}
