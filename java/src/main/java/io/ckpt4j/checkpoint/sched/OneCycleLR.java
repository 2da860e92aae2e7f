package io.ckpt4j.checkpoint.sched;

import static io.ckpt4j.checkpoint.sched.StateEntries.getBoolean;
import static io.ckpt4j.checkpoint.sched.StateEntries.getLong;
import static io.ckpt4j.checkpoint.sched.StateEntries.getStr;

import io.ckpt4j.CheckpointException;
import io.ckpt4j.CheckpointException.Kind;
import io.ckpt4j.checkpoint.optim.Optimizer;
import io.ckpt4j.checkpoint.optim.ParamGroup;
import io.ckpt4j.value.PyTuple;
import io.ckpt4j.value.PyValues;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * {@code OneCycleLR}: the 1cycle policy — the lr rises from {@code max_lr / div_factor} to
 * {@code max_lr}, then anneals to {@code initial_lr / final_div_factor} (three phases with
 * {@code three_phase}), by cosine or linear annealing, while the momentum (or Adam's
 * {@code betas[0]}) cycles the other way. As in Python it writes {@code initial_lr},
 * {@code max_lr}, {@code min_lr}, {@code max_momentum} and {@code base_momentum} into the param
 * groups (so they are in the optimizer's state dict), and the phases into its own state:
 * {@code total_steps}, {@code _schedule_phases}, {@code _anneal_func_type},
 * {@code cycle_momentum}, {@code use_beta1}.
 */
public final class OneCycleLR extends LRScheduler {
  private static final String TOTAL_STEPS = "total_steps";
  private static final String PHASES = "_schedule_phases";
  private static final String ANNEAL = "_anneal_func_type";
  private static final String CYCLE_MOMENTUM = "cycle_momentum";
  private static final String USE_BETA1 = "use_beta1";
  private static final String COS = "cos";
  private static final String LINEAR = "linear";
  private static final String BETAS = "betas";
  private static final String MOMENTUM = "momentum";
  /** Python's {@code _annealing_cos}: {@code end + (start - end) / 2.0 * (cos(pi * pct) + 1)}. */
  private static final double COS_DIVISOR = 2.0;

  private long totalSteps;
  private List<Map<String, Object>> phases;
  private String annealFuncType;
  private boolean cycleMomentum;
  private boolean useBeta1;

  /**
   * The keyword arguments of Python's constructor, with its defaults: {@code pct_start=0.3,
   * anneal_strategy='cos', cycle_momentum=True, base_momentum=0.85, max_momentum=0.95,
   * div_factor=25.0, final_div_factor=1e4, three_phase=False}; {@code max_lr} and
   * {@code total_steps} (or {@code epochs} and {@code steps_per_epoch}) are required.
   */
  public static final class Options {
    private List<Double> maxLr;
    private Long totalSteps;
    private double pctStart = 0.3;
    private String annealStrategy = COS;
    private boolean cycleMomentum = true;
    private List<Double> baseMomentum;
    private List<Double> maxMomentum;
    private double divFactor = 25.0;
    private double finalDivFactor = 1e4;
    private boolean threePhase;
    private static final double DEFAULT_BASE_MOMENTUM = 0.85;
    private static final double DEFAULT_MAX_MOMENTUM = 0.95;

    public Options maxLr(double maxLr) {
      this.maxLr = List.of(maxLr);
      return this;
    }

    /** One {@code max_lr} per param group. */
    public Options maxLr(List<Double> maxLr) {
      this.maxLr = List.copyOf(maxLr);
      return this;
    }

    public Options totalSteps(long totalSteps) {
      this.totalSteps = totalSteps;
      return this;
    }

    /** {@code total_steps = epochs * steps_per_epoch}. */
    public Options epochs(long epochs, long stepsPerEpoch) {
      if (epochs <= 0 || stepsPerEpoch <= 0) {
        throw new IllegalArgumentException("Expected positive integer epochs and steps_per_epoch");
      }
      this.totalSteps = Math.multiplyExact(epochs, stepsPerEpoch);
      return this;
    }

    public Options pctStart(double pctStart) {
      this.pctStart = pctStart;
      return this;
    }

    /** {@code "cos"} or {@code "linear"}. */
    public Options annealStrategy(String annealStrategy) {
      this.annealStrategy = annealStrategy;
      return this;
    }

    public Options cycleMomentum(boolean cycleMomentum) {
      this.cycleMomentum = cycleMomentum;
      return this;
    }

    public Options baseMomentum(double baseMomentum) {
      this.baseMomentum = List.of(baseMomentum);
      return this;
    }

    public Options maxMomentum(double maxMomentum) {
      this.maxMomentum = List.of(maxMomentum);
      return this;
    }

    public Options divFactor(double divFactor) {
      this.divFactor = divFactor;
      return this;
    }

    public Options finalDivFactor(double finalDivFactor) {
      this.finalDivFactor = finalDivFactor;
      return this;
    }

    public Options threePhase(boolean threePhase) {
      this.threePhase = threePhase;
      return this;
    }
  }

  public static Options options() {
    return new Options();
  }

  public OneCycleLR(Optimizer optimizer, Options options) {
    this(optimizer, options, -1);
  }

  public OneCycleLR(Optimizer optimizer, Options o, long lastEpoch) {
    super(optimizer);
    if (o.totalSteps == null || o.totalSteps <= 0) {
      throw new IllegalArgumentException("You must define either total_steps OR (epochs AND"
          + " steps_per_epoch), positive");
    }
    if (o.maxLr == null) throw new IllegalArgumentException("max_lr is required");
    totalSteps = o.totalSteps;
    phases = new ArrayList<>();
    if (o.threePhase) {
      phases.add(phase(o.pctStart * totalSteps - 1, "initial_lr", "max_lr",
          "max_momentum", "base_momentum"));
      phases.add(phase(2 * o.pctStart * totalSteps - 2, "max_lr", "initial_lr",
          "base_momentum", "max_momentum"));
      phases.add(phase(totalSteps - 1, "initial_lr", "min_lr", "max_momentum", "max_momentum"));
    } else {
      phases.add(phase(o.pctStart * totalSteps - 1, "initial_lr", "max_lr",
          "max_momentum", "base_momentum"));
      phases.add(phase(totalSteps - 1, "max_lr", "min_lr", "base_momentum", "max_momentum"));
    }
    if (o.pctStart < 0 || o.pctStart > 1) {
      throw new IllegalArgumentException("Expected float between 0 and 1 pct_start, but got "
          + o.pctStart);
    }
    if (!COS.equals(o.annealStrategy) && !LINEAR.equals(o.annealStrategy)) {
      throw new IllegalArgumentException("anneal_strategy must be one of 'cos' or 'linear',"
          + " instead got " + o.annealStrategy);
    }
    annealFuncType = o.annealStrategy;
    List<ParamGroup> groups = optimizer.paramGroups();
    List<Double> maxLrs = perGroup("max_lr", o.maxLr, groups.size());
    if (lastEpoch == -1) {
      for (int i = 0; i < groups.size(); i++) {
        ParamGroup g = groups.get(i);
        double initial = maxLrs.get(i) / o.divFactor;
        g.put("initial_lr", initial);
        g.put("max_lr", maxLrs.get(i));
        g.put("min_lr", initial / o.finalDivFactor);
      }
    }
    cycleMomentum = o.cycleMomentum;
    if (cycleMomentum) {
      Map<String, Object> defaults = optimizer.defaults();
      if (!defaults.containsKey(MOMENTUM) && !defaults.containsKey(BETAS)) {
        throw new IllegalArgumentException("optimizer must support momentum or beta1 with"
            + " `cycle_momentum` option enabled");
      }
      useBeta1 = defaults.containsKey(BETAS);
      List<Double> maxMomentums = perGroup("max_momentum",
          o.maxMomentum != null ? o.maxMomentum : List.of(Options.DEFAULT_MAX_MOMENTUM),
          groups.size());
      List<Double> baseMomentums = perGroup("base_momentum",
          o.baseMomentum != null ? o.baseMomentum : List.of(Options.DEFAULT_BASE_MOMENTUM),
          groups.size());
      if (lastEpoch == -1) {
        for (int i = 0; i < groups.size(); i++) {
          ParamGroup g = groups.get(i);
          setMomentum(g, maxMomentums.get(i));
          g.put("max_momentum", maxMomentums.get(i));
          g.put("base_momentum", baseMomentums.get(i));
        }
      }
    }
    init(lastEpoch);
  }

  private static Map<String, Object> phase(Object endStep, String startLr, String endLr,
      String startMomentum, String endMomentum) {
    LinkedHashMap<String, Object> p = new LinkedHashMap<>();
    p.put("end_step", endStep);
    p.put("start_lr", startLr);
    p.put("end_lr", endLr);
    p.put("start_momentum", startMomentum);
    p.put("end_momentum", endMomentum);
    return p;
  }

  /** Python's {@code _format_param}: one value for every group, or exactly one per group. */
  private static List<Double> perGroup(String name, List<Double> values, int groups) {
    if (values.size() == 1) return Collections.nCopies(groups, values.get(0));
    if (values.size() != groups) {
      throw new IllegalArgumentException(name + " must have the same length as"
          + " optimizer.param_groups. " + name + " has " + values.size() + " values, param_groups"
          + " has " + groups + ".");
    }
    return values;
  }

  private void setMomentum(ParamGroup g, double momentum) {
    if (useBeta1) {
      List<?> betas = (List<?>) g.get(BETAS);
      Object[] items = betas.toArray();
      items[0] = momentum;
      g.put(BETAS, PyTuple.of(items));
    } else {
      g.put(MOMENTUM, momentum);
    }
  }

  @Override
  protected List<Double> getLr() {
    long stepNum = lastEpoch;
    if (stepNum > totalSteps) {
      throw new IllegalStateException("Tried to step " + stepNum + " times. The specified number"
          + " of total steps is " + totalSteps);
    }
    List<Double> lrs = new ArrayList<>();
    for (ParamGroup group : optimizer.paramGroups()) {
      double startStep = 0.0;
      double computedLr = 0;
      double computedMomentum = 0;
      for (int i = 0; i < phases.size(); i++) {
        Map<String, Object> phase = phases.get(i);
        double endStep = ((Number) phase.get("end_step")).doubleValue();
        if (stepNum <= endStep || i == phases.size() - 1) {
          double pct = (stepNum - startStep) / (endStep - startStep);
          computedLr = anneal(groupNumber(group, (String) phase.get("start_lr")),
              groupNumber(group, (String) phase.get("end_lr")), pct);
          if (cycleMomentum) {
            computedMomentum = anneal(groupNumber(group, (String) phase.get("start_momentum")),
                groupNumber(group, (String) phase.get("end_momentum")), pct);
          }
          break;
        }
        startStep = endStep;
      }
      lrs.add(computedLr);
      if (cycleMomentum) setMomentum(group, computedMomentum);
    }
    return lrs;
  }

  private double anneal(double start, double end, double pct) {
    if (COS.equals(annealFuncType)) {
      double cosOut = Math.cos(Math.PI * pct) + 1;
      return end + (start - end) / COS_DIVISOR * cosOut;
    }
    return (end - start) * pct + start;
  }

  @Override
  protected void ownState(Map<String, Object> out) {
    out.put(TOTAL_STEPS, totalSteps);
    List<Object> copy = new ArrayList<>();
    for (Map<String, Object> p : phases) copy.add(new LinkedHashMap<>(p));
    out.put(PHASES, copy);
    out.put(ANNEAL, annealFuncType);
    out.put(CYCLE_MOMENTUM, cycleMomentum);
    if (cycleMomentum) out.put(USE_BETA1, useBeta1);
  }

  @Override
  protected void loadOwnState(Map<String, Object> state, String where)
      throws CheckpointException {
    totalSteps = getLong(state, TOTAL_STEPS, totalSteps, where);
    if (state.containsKey(PHASES)) {
      List<?> raw = PyValues.toList(state.get(PHASES), where + " '_schedule_phases'");
      List<Map<String, Object>> loaded = new ArrayList<>();
      for (int i = 0; i < raw.size(); i++) {
        String pw = where + " '_schedule_phases'[" + i + "]";
        Map<String, Object> p = stringKeys(PyValues.toMap(raw.get(i), pw));
        PyValues.toDouble(PyValues.require(p, "end_step", pw), pw + " 'end_step'");
        for (String key : List.of("start_lr", "end_lr", "start_momentum", "end_momentum")) {
          PyValues.toStr(PyValues.require(p, key, pw), pw + " '" + key + "'");
        }
        loaded.add(new LinkedHashMap<>(p));
      }
      if (loaded.isEmpty()) throw new CheckpointException(Kind.INVALID_VALUE,
          where + " has no schedule phases");
      phases = loaded;
    }
    String type = getStr(state, ANNEAL, annealFuncType, where);
    if (!COS.equals(type) && !LINEAR.equals(type)) {
      throw new CheckpointException(Kind.INVALID_VALUE, where + " '_anneal_func_type' is '" + type
          + "', not 'cos' or 'linear'");
    }
    annealFuncType = type;
    cycleMomentum = getBoolean(state, CYCLE_MOMENTUM, cycleMomentum, where);
    useBeta1 = getBoolean(state, USE_BETA1, useBeta1, where);
  }

  @Override
  protected Set<String> ownKeys() {
    return Set.of(TOTAL_STEPS, PHASES, ANNEAL, CYCLE_MOMENTUM, USE_BETA1);
  }
}
