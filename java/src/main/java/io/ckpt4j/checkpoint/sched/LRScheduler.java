package io.ckpt4j.checkpoint.sched;

import static io.ckpt4j.checkpoint.sched.StateEntries.getBoolean;
import static io.ckpt4j.checkpoint.sched.StateEntries.getDoubles;
import static io.ckpt4j.checkpoint.sched.StateEntries.getLong;

import io.ckpt4j.CheckpointException;
import io.ckpt4j.checkpoint.optim.Optimizer;
import io.ckpt4j.checkpoint.optim.ParamGroup;
import io.ckpt4j.value.PyValues;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * {@code torch.optim.lr_scheduler.LRScheduler} in Java: Python 2.13's learning-rate arithmetic,
 * step for step and in double precision as Python computes it, and its {@code state_dict()} with
 * the same keys, order and value types.
 *
 * <p>As in Python, building a scheduler sets each group's {@code initial_lr} (when
 * {@code last_epoch == -1}) and takes an initial step; {@link #step()} is called after the
 * optimizer's step. To resume: build the optimizer and the scheduler as the run did, then load
 * both state dicts ({@code optimizer.loadStateDict(...)}, {@code scheduler.loadStateDict(...)}).
 *
 * <p>State dict keys: the subclass's own fields first, then {@code base_lrs}, {@code last_epoch},
 * {@code _step_count}, {@code _is_initial}, {@code _get_lr_called_within_step}, {@code _last_lr};
 * keys a loaded state dict has that this class does not know are kept and written back, as
 * Python's {@code __dict__.update} keeps them.
 */
public abstract class LRScheduler {
  static final String BASE_LRS = "base_lrs";
  static final String LAST_EPOCH = "last_epoch";
  static final String STEP_COUNT = "_step_count";
  static final String IS_INITIAL = "_is_initial";
  static final String GET_LR_CALLED = "_get_lr_called_within_step";
  static final String LAST_LR = "_last_lr";
  static final String INITIAL_LR = "initial_lr";
  private static final Set<String> BASE_KEYS =
      Set.of(BASE_LRS, LAST_EPOCH, STEP_COUNT, IS_INITIAL, GET_LR_CALLED, LAST_LR);

  /** The optimizer whose groups this scheduler sets. */
  protected final Optimizer optimizer;
  /** {@code base_lrs}: the groups' {@code initial_lr}. */
  protected List<Double> baseLrs = new ArrayList<>();
  /** {@code last_epoch}. */
  protected long lastEpoch;
  /** {@code _step_count}. */
  protected long stepCount;
  /** {@code _is_initial}: true during the initial step. */
  protected boolean isInitial;
  /** {@code _get_lr_called_within_step}. */
  protected boolean getLrCalledWithinStep;
  /** {@code _last_lr}. */
  protected List<Double> lastLr = new ArrayList<>();
  private final LinkedHashMap<String, Object> unknownState = new LinkedHashMap<>();

  protected LRScheduler(Optimizer optimizer) {
    this.optimizer = Objects.requireNonNull(optimizer, "optimizer");
  }

  /**
   * Python's {@code LRScheduler.__init__(optimizer, last_epoch)}, called by a subclass once its own
   * fields are set: {@code initial_lr}, {@code base_lrs}, {@code last_epoch}, the initial step.
   *
   * @throws IllegalArgumentException when {@code lastEpoch >= 0} and a group has no
   *     {@code initial_lr} (load the optimizer's state dict first)
   */
  protected final void init(long lastEpoch) {
    List<ParamGroup> groups = optimizer.paramGroups();
    if (lastEpoch == -1) {
      for (ParamGroup g : groups) g.setDefault(INITIAL_LR, g.get(ParamGroup.LR));
    } else {
      for (int i = 0; i < groups.size(); i++) {
        if (!groups.get(i).containsKey(INITIAL_LR)) {
          throw new IllegalArgumentException("param 'initial_lr' is not specified in param_groups["
              + i + "] when resuming a scheduler with last_epoch >= 0: load the optimizer's"
              + " state_dict before building the scheduler");
        }
      }
    }
    baseLrs = groupValues(INITIAL_LR);
    this.lastEpoch = lastEpoch;
    initialStep();
  }

  /** Python's {@code _initial_step}: {@code _step_count = 0}, then one step in initial mode. */
  void initialStep() {
    stepCount = 0;
    isInitial = true;
    try {
      step();
    } finally {
      isInitial = false;
    }
  }

  /** {@code scheduler.step()}: the next epoch's learning rates, set on the optimizer's groups. */
  public void step() {
    stepCount++;
    updateLr(null);
  }

  /**
   * The deprecated {@code scheduler.step(epoch)}: {@code last_epoch = epoch}, and the closed form
   * where the scheduler has one (as Python does).
   */
  public void step(long epoch) {
    stepCount++;
    updateLr(epoch);
  }

  /** Python's {@code _update_lr(epoch)}. */
  void updateLr(Long epoch) {
    List<Double> values;
    getLrCalledWithinStep = true;
    try {
      if (epoch == null) {
        lastEpoch++;
        values = getLr();
      } else {
        lastEpoch = epoch;
        List<Double> closed = closedFormLr();
        values = closed != null ? closed : getLr();
      }
    } finally {
      getLrCalledWithinStep = false;
    }
    List<ParamGroup> groups = optimizer.paramGroups();
    if (values.size() != groups.size()) {
      throw new IllegalStateException("the scheduler computed " + values.size()
          + " learning rates for " + groups.size() + " param groups");
    }
    for (int i = 0; i < groups.size(); i++) groups.get(i).setLr(values.get(i));
    lastLr = groupValues(ParamGroup.LR);
  }

  /** Python's {@code get_lr()}: the learning rates of the epoch {@code lastEpoch}. */
  protected abstract List<Double> getLr();

  /** Python's {@code _get_closed_form_lr()}, or null when the scheduler has none. */
  protected List<Double> closedFormLr() {
    return null;
  }

  /** {@code scheduler.get_last_lr()}: the learning rates the last step set. */
  public List<Double> getLastLr() {
    return Collections.unmodifiableList(lastLr);
  }

  /** {@code last_epoch}. */
  public long lastEpoch() {
    return lastEpoch;
  }

  /** Each group's value under {@code key}, as doubles. */
  protected final List<Double> groupValues(String key) {
    List<Double> out = new ArrayList<>();
    for (ParamGroup g : optimizer.paramGroups()) out.add(groupNumber(g, key));
    return out;
  }

  /** A group's number under {@code key}. */
  protected static double groupNumber(ParamGroup group, String key) {
    try {
      return group.getDouble(key);
    } catch (CheckpointException e) {
      throw new IllegalStateException(e.getMessage() + " (a scheduler needs it)", e);
    }
  }

  // ---- state_dict

  /**
   * Python's {@code scheduler.state_dict()}: this scheduler's fields (never the optimizer, never
   * Java functions) as Python values.
   */
  public LinkedHashMap<String, Object> stateDict() {
    LinkedHashMap<String, Object> out = new LinkedHashMap<>();
    ownState(out);
    out.put(BASE_LRS, new ArrayList<Object>(baseLrs));
    out.put(LAST_EPOCH, lastEpoch);
    out.put(STEP_COUNT, stepCount);
    out.put(IS_INITIAL, isInitial);
    out.put(GET_LR_CALLED, getLrCalledWithinStep);
    out.put(LAST_LR, new ArrayList<Object>(lastLr));
    trailingState(out);
    unknownState.forEach(out::putIfAbsent);
    return out;
  }

  /** The subclass's fields, put before the base fields (Python sets them first); none here. */
  protected void ownState(Map<String, Object> out) {}

  /** Entries Python puts after the base fields (LambdaLR's {@code lr_lambdas}). */
  protected void trailingState(Map<String, Object> out) {}

  /**
   * Python's {@code scheduler.load_state_dict(state_dict)}: the fields the dict has replace this
   * scheduler's; others stay.
   *
   * @throws CheckpointException when an entry has the wrong type, in one line naming it
   */
  public void loadStateDict(Map<?, ?> stateDict) throws CheckpointException {
    Map<String, Object> state = stringKeys(stateDict);
    String where = "the " + getClass().getSimpleName() + " state_dict";
    loadOwnState(state, where);
    baseLrs = getDoubles(state, BASE_LRS, baseLrs, where);
    lastEpoch = getLong(state, LAST_EPOCH, lastEpoch, where);
    stepCount = getLong(state, STEP_COUNT, stepCount, where);
    isInitial = getBoolean(state, IS_INITIAL, isInitial, where);
    getLrCalledWithinStep = getBoolean(state, GET_LR_CALLED, getLrCalledWithinStep, where);
    lastLr = getDoubles(state, LAST_LR, lastLr, where);
    for (Map.Entry<String, Object> e : state.entrySet()) {
      if (!BASE_KEYS.contains(e.getKey()) && !ownKeys().contains(e.getKey())) {
        unknownState.put(e.getKey(), e.getValue());
      }
    }
  }

  /** Reads the subclass's fields from a loaded state dict (those present); none here. */
  protected void loadOwnState(Map<String, Object> state, String where)
      throws CheckpointException {}

  /** The state dict keys the subclass reads and writes itself; none here. */
  protected Set<String> ownKeys() {
    return Set.of();
  }

  static Map<String, Object> stringKeys(Map<?, ?> map) throws CheckpointException {
    LinkedHashMap<String, Object> out = new LinkedHashMap<>();
    for (Map.Entry<?, ?> e : map.entrySet()) {
      out.put(PyValues.toStr(e.getKey(), "a scheduler state_dict key"), e.getValue());
    }
    return out;
  }

  /** Each of {@code lrs} times {@code factor}: the step of most schedulers. */
  static List<Double> scaled(List<Double> lrs, double factor) {
    List<Double> out = new ArrayList<>(lrs.size());
    for (double lr : lrs) out.add(lr * factor);
    return out;
  }

  /** Python's {@code a % b} for ints (the sign of the divisor). */
  static long pyMod(long a, long b) {
    return Math.floorMod(a, b);
  }

  /** Python's {@code a // b} for ints. */
  static long pyFloorDiv(long a, long b) {
    return Math.floorDiv(a, b);
  }

  @Override
  public String toString() {
    return getClass().getSimpleName() + "(last_epoch=" + lastEpoch + ", last_lr=" + lastLr + ")";
  }
}
