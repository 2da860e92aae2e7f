package io.ckpt4j.checkpoint.sched;

import static io.ckpt4j.checkpoint.sched.StateEntries.getDouble;
import static io.ckpt4j.checkpoint.sched.StateEntries.getLong;

import io.ckpt4j.CheckpointException;
import io.ckpt4j.checkpoint.optim.Optimizer;
import io.ckpt4j.checkpoint.optim.ParamGroup;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * {@code CosineAnnealingLR(optimizer, T_max, eta_min=0.0)}, with Python 2.13's arithmetic: the
 * recursive form each step ({@code (1 + cos(pi * t / T)) / (1 + cos(pi * (t - 1) / T)) *
 * (lr - eta_min) + eta_min}), the restart branch at {@code (t - 1 - T) % 2T == 0}, the closed
 * form on the first step of a scheduler built with {@code last_epoch > 0} and for
 * {@code step(epoch)}. So the lr goes back up after {@code T_max} epochs, as Python's does.
 * State: {@code T_max}, {@code eta_min}.
 */
public final class CosineAnnealingLR extends LRScheduler {
  private static final String T_MAX = "T_max";
  private static final String ETA_MIN = "eta_min";
  /** Python's default {@code eta_min}. */
  public static final double DEFAULT_ETA_MIN = 0.0;
  private long tMax;
  private double etaMin;

  /** {@code CosineAnnealingLR(optimizer, T_max)}: {@code eta_min=0.0}. */
  public CosineAnnealingLR(Optimizer optimizer, long tMax) {
    this(optimizer, tMax, DEFAULT_ETA_MIN, -1);
  }

  public CosineAnnealingLR(Optimizer optimizer, long tMax, double etaMin) {
    this(optimizer, tMax, etaMin, -1);
  }

  public CosineAnnealingLR(Optimizer optimizer, long tMax, double etaMin, long lastEpoch) {
    super(optimizer);
    this.tMax = tMax;
    this.etaMin = etaMin;
    init(lastEpoch);
  }

  @Override
  protected List<Double> getLr() {
    List<Double> lrs = groupValues(ParamGroup.LR);
    if (isInitial) return lrs;
    List<Double> out = new ArrayList<>();
    if (stepCount == 1 && lastEpoch > 0) {
      for (double base : baseLrs) {
        out.add(etaMin + (base - etaMin) * (1 + Math.cos(lastEpoch * Math.PI / tMax)) / 2);
      }
      return out;
    }
    if (pyMod(lastEpoch - 1 - tMax, 2 * tMax) == 0) {
      for (int i = 0; i < lrs.size(); i++) {
        out.add(lrs.get(i) + (baseLrs.get(i) - etaMin) * (1 - Math.cos(Math.PI / tMax)) / 2);
      }
      return out;
    }
    for (double lr : lrs) {
      out.add((1 + Math.cos(Math.PI * lastEpoch / tMax))
          / (1 + Math.cos(Math.PI * (lastEpoch - 1) / tMax)) * (lr - etaMin) + etaMin);
    }
    return out;
  }

  @Override
  protected List<Double> closedFormLr() {
    List<Double> out = new ArrayList<>();
    for (double base : baseLrs) {
      out.add(etaMin + (base - etaMin) * (1 + Math.cos(Math.PI * lastEpoch / tMax)) / 2);
    }
    return out;
  }

  @Override
  protected void ownState(Map<String, Object> out) {
    out.put(T_MAX, tMax);
    out.put(ETA_MIN, etaMin);
  }

  @Override
  protected void loadOwnState(Map<String, Object> state, String where)
      throws CheckpointException {
    tMax = getLong(state, T_MAX, tMax, where);
    etaMin = getDouble(state, ETA_MIN, etaMin, where);
  }

  @Override
  protected Set<String> ownKeys() {
    return Set.of(T_MAX, ETA_MIN);
  }
}
