package io.ckpt4j.checkpoint.sched;

import static io.ckpt4j.checkpoint.sched.StateEntries.at;
import static io.ckpt4j.checkpoint.sched.StateEntries.getDouble;
import static io.ckpt4j.checkpoint.sched.StateEntries.getDoubles;
import static io.ckpt4j.checkpoint.sched.StateEntries.getLong;
import static io.ckpt4j.checkpoint.sched.StateEntries.getStr;

import io.ckpt4j.CheckpointException;
import io.ckpt4j.CheckpointException.Kind;
import io.ckpt4j.checkpoint.optim.Optimizer;
import io.ckpt4j.checkpoint.optim.ParamGroup;
import io.ckpt4j.value.PyValues;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code ReduceLROnPlateau}: multiplies the lr by {@code factor} when a metric has not improved
 * for {@code patience} epochs ({@link #step(double)} takes the metric). State, in Python's order:
 * {@code factor}, {@code default_min_lr}, {@code min_lrs}, {@code patience}, {@code cooldown},
 * {@code eps}, {@code last_epoch}, {@code _last_lr}, {@code mode_worse}, {@code mode},
 * {@code threshold}, {@code threshold_mode}, {@code best}, {@code cooldown_counter},
 * {@code num_bad_epochs}.
 */
public final class ReduceLROnPlateau extends LRScheduler {
  private static final String MIN = "min";
  private static final String MAX = "max";
  private static final String REL = "rel";
  private static final String ABS = "abs";

  private double factor;
  /** Python's {@code default_min_lr}: the one min_lr given (None when a list was). */
  private Object defaultMinLr;
  private List<Object> minLrs;
  private long patience;
  private long cooldown;
  private double eps;
  private double modeWorse;
  private String mode;
  private double threshold;
  private String thresholdMode;
  private double best;
  private long cooldownCounter;
  private long numBadEpochs;

  /**
   * The keyword arguments with Python's defaults: {@code mode='min', factor=0.1, patience=10,
   * threshold=1e-4, threshold_mode='rel', cooldown=0, min_lr=0, eps=1e-8}.
   */
  public static final class Options {
    private String mode = MIN;
    private double factor = 0.1;
    private long patience = 10;
    private double threshold = 1e-4;
    private String thresholdMode = REL;
    private long cooldown;
    private Object minLr = 0L;
    private double eps = 1e-8;

    public Options mode(String mode) {
      this.mode = mode;
      return this;
    }

    public Options factor(double factor) {
      this.factor = factor;
      return this;
    }

    public Options patience(long patience) {
      this.patience = patience;
      return this;
    }

    public Options threshold(double threshold) {
      this.threshold = threshold;
      return this;
    }

    public Options thresholdMode(String thresholdMode) {
      this.thresholdMode = thresholdMode;
      return this;
    }

    public Options cooldown(long cooldown) {
      this.cooldown = cooldown;
      return this;
    }

    public Options minLr(double minLr) {
      this.minLr = minLr;
      return this;
    }

    /** One min_lr per param group. */
    public Options minLr(List<Double> minLrs) {
      this.minLr = List.copyOf(minLrs);
      return this;
    }

    public Options eps(double eps) {
      this.eps = eps;
      return this;
    }
  }

  public static Options options() {
    return new Options();
  }

  public ReduceLROnPlateau(Optimizer optimizer, Options o) {
    super(optimizer);
    if (o.factor >= 1.0) throw new IllegalArgumentException("Factor should be < 1.0.");
    factor = o.factor;
    int groups = optimizer.paramGroups().size();
    if (o.minLr instanceof List<?> list) {
      if (list.size() != groups) {
        throw new IllegalArgumentException("expected " + groups + " min_lrs, got " + list.size());
      }
      defaultMinLr = null;
      minLrs = new ArrayList<>(list);
    } else {
      defaultMinLr = o.minLr;
      minLrs = new ArrayList<>(Collections.nCopies(groups, o.minLr));
    }
    patience = o.patience;
    cooldown = o.cooldown;
    eps = o.eps;
    lastEpoch = 0;
    lastLr = groupValues(ParamGroup.LR);
    initIsBetter(o.mode, o.threshold, o.thresholdMode);
    reset();
  }

  private void initIsBetter(String mode, double threshold, String thresholdMode) {
    if (!MIN.equals(mode) && !MAX.equals(mode)) {
      throw new IllegalArgumentException("mode " + mode + " is unknown!");
    }
    if (!REL.equals(thresholdMode) && !ABS.equals(thresholdMode)) {
      throw new IllegalArgumentException("threshold mode " + thresholdMode + " is unknown!");
    }
    modeWorse = MIN.equals(mode) ? Double.POSITIVE_INFINITY : Double.NEGATIVE_INFINITY;
    this.mode = mode;
    this.threshold = threshold;
    this.thresholdMode = thresholdMode;
  }

  private void reset() {
    best = modeWorse;
    cooldownCounter = 0;
    numBadEpochs = 0;
  }

  /** {@code scheduler.step(metrics)}: one epoch with this value of the watched metric. */
  public void step(double metrics) {
    long epoch = lastEpoch + 1;
    lastEpoch = epoch;
    if (isBetter(metrics, best)) {
      best = metrics;
      numBadEpochs = 0;
    } else {
      numBadEpochs++;
    }
    if (cooldownCounter > 0) {
      cooldownCounter--;
      numBadEpochs = 0; // ignore any bad epochs in cooldown
    }
    if (numBadEpochs > patience) {
      reduceLr();
      cooldownCounter = cooldown;
      numBadEpochs = 0;
    }
    lastLr = groupValues(ParamGroup.LR);
  }

  /** Not for ReduceLROnPlateau: it needs the metric, {@link #step(double)}. */
  @Override
  public void step() {
    throw new UnsupportedOperationException("ReduceLROnPlateau.step needs the metric: step(value)");
  }

  @Override
  public void step(long epoch) {
    throw new UnsupportedOperationException("ReduceLROnPlateau.step needs the metric: step(value)");
  }

  private void reduceLr() {
    List<ParamGroup> groups = optimizer.paramGroups();
    if (groups.size() != minLrs.size()) {
      if (defaultMinLr == null) {
        throw new IllegalStateException("The number of param groups in the optimizer ("
            + groups.size() + ") differs from when ReduceLROnPlateau was initialized ("
            + minLrs.size() + ")");
      }
      minLrs = new ArrayList<>(Collections.nCopies(groups.size(), defaultMinLr));
    }
    for (int i = 0; i < groups.size(); i++) {
      ParamGroup g = groups.get(i);
      double oldLr = groupNumber(g, ParamGroup.LR);
      double minLr = ((Number) minLrs.get(i)).doubleValue();
      double newLr = Math.max(oldLr * factor, minLr);
      if (oldLr - newLr > eps) g.setLr(newLr);
    }
  }

  private boolean isBetter(double a, double best) {
    if (MIN.equals(mode) && REL.equals(thresholdMode)) return a < best * (1.0 - threshold);
    if (MIN.equals(mode)) return a < best - threshold;
    if (REL.equals(thresholdMode)) return a > best * (threshold + 1.0);
    return a > best + threshold;
  }

  @Override
  protected List<Double> getLr() {
    throw new UnsupportedOperationException("ReduceLROnPlateau has no get_lr");
  }

  @Override
  public LinkedHashMap<String, Object> stateDict() {
    LinkedHashMap<String, Object> out = new LinkedHashMap<>();
    out.put("factor", factor);
    out.put("default_min_lr", defaultMinLr);
    out.put("min_lrs", new ArrayList<>(minLrs));
    out.put("patience", patience);
    out.put("cooldown", cooldown);
    out.put("eps", eps);
    out.put(LAST_EPOCH, lastEpoch);
    out.put(LAST_LR, new ArrayList<Object>(lastLr));
    out.put("mode_worse", modeWorse);
    out.put("mode", mode);
    out.put("threshold", threshold);
    out.put("threshold_mode", thresholdMode);
    out.put("best", best);
    out.put("cooldown_counter", cooldownCounter);
    out.put("num_bad_epochs", numBadEpochs);
    return out;
  }

  @Override
  public void loadStateDict(Map<?, ?> stateDict) throws CheckpointException {
    Map<String, Object> s = stringKeys(stateDict);
    String w = "the ReduceLROnPlateau state_dict";
    factor = getDouble(s, "factor", factor, w);
    if (s.containsKey("default_min_lr")) {
      Object v = s.get("default_min_lr");
      if (v != null) PyValues.toDouble(v, at(w, "default_min_lr"));
      defaultMinLr = v;
    }
    if (s.containsKey("min_lrs")) {
      List<?> raw = PyValues.toList(s.get("min_lrs"), at(w, "min_lrs"));
      PyValues.toDoubles(raw, at(w, "min_lrs")); // checks each; kept as saved, int or float
      minLrs = new ArrayList<>(raw);
    }
    patience = getLong(s, "patience", patience, w);
    cooldown = getLong(s, "cooldown", cooldown, w);
    eps = getDouble(s, "eps", eps, w);
    lastEpoch = getLong(s, LAST_EPOCH, lastEpoch, w);
    lastLr = getDoubles(s, LAST_LR, lastLr, w);
    best = getDouble(s, "best", best, w);
    cooldownCounter = getLong(s, "cooldown_counter", cooldownCounter, w);
    numBadEpochs = getLong(s, "num_bad_epochs", numBadEpochs, w);
    try {
      initIsBetter(getStr(s, "mode", mode, w), getDouble(s, "threshold", threshold, w),
          getStr(s, "threshold_mode", thresholdMode, w));
    } catch (IllegalArgumentException e) {
      throw new CheckpointException(Kind.INVALID_VALUE, w + ": " + e.getMessage());
    }
  }
}
