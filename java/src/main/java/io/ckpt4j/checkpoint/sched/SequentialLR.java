package io.ckpt4j.checkpoint.sched;

import static io.ckpt4j.checkpoint.sched.StateEntries.getDoubles;
import static io.ckpt4j.checkpoint.sched.StateEntries.getLong;

import io.ckpt4j.CheckpointException;
import io.ckpt4j.CheckpointException.Kind;
import io.ckpt4j.checkpoint.optim.Optimizer;
import io.ckpt4j.checkpoint.optim.ParamGroup;
import io.ckpt4j.value.PyValues;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code SequentialLR(optimizer, schedulers, milestones)}: runs {@code schedulers[i]} between
 * milestones; at a milestone the next one restarts from its epoch 0 (its closed form where it has
 * one). Built as Python builds it: the groups' lr reset to {@code initial_lr}, every scheduler's
 * {@code last_epoch} undone by one, then the first one's initial step. State:
 * {@code _milestones}, {@code last_epoch}, {@code _last_lr}, {@code _schedulers} (their state
 * dicts).
 */
public final class SequentialLR extends LRScheduler {
  private static final String MILESTONES = "_milestones";
  private static final String SCHEDULERS = "_schedulers";
  private final List<LRScheduler> schedulers;
  private List<Long> milestones;

  public SequentialLR(Optimizer optimizer, List<LRScheduler> schedulers, List<Long> milestones) {
    this(optimizer, schedulers, milestones, -1);
  }

  public SequentialLR(Optimizer optimizer, List<LRScheduler> schedulers, List<Long> milestones,
      long lastEpoch) {
    super(optimizer);
    if (schedulers.isEmpty()) {
      throw new IllegalArgumentException("SequentialLR expects at least one scheduler, but got no"
          + " scheduler.");
    }
    for (int i = 0; i < schedulers.size(); i++) {
      LRScheduler s = schedulers.get(i);
      if (s instanceof ReduceLROnPlateau) {
        throw new IllegalArgumentException("SequentialLR does not support `ReduceLROnPlateau`"
            + " scheduler (at index " + i + ")");
      }
      if (s.optimizer != optimizer) {
        throw new IllegalArgumentException("SequentialLR expects all schedulers to belong to the"
            + " same optimizer, but the scheduler at index " + i + " has another one");
      }
    }
    if (milestones.size() != schedulers.size() - 1) {
      throw new IllegalArgumentException("Sequential Schedulers expects number of schedulers"
          + " provided to be one more than the number of milestone points, but got number of"
          + " schedulers " + schedulers.size() + " and the number of milestones to be equal to "
          + milestones.size());
    }
    this.schedulers = List.copyOf(schedulers);
    this.milestones = List.copyOf(milestones);
    this.lastEpoch = lastEpoch + 1;
    for (ParamGroup g : optimizer.paramGroups()) g.setLr(groupNumber(g, INITIAL_LR));
    for (LRScheduler s : this.schedulers) undo(s);
    int idx = bisectRight(this.milestones, 0);
    this.schedulers.get(idx).initialStep();
    this.lastLr = new ArrayList<>(this.schedulers.get(idx).getLastLr());
  }

  /** Python's {@code recursive_undo}: one epoch back, into nested SequentialLRs too. */
  private static void undo(LRScheduler s) {
    if (s instanceof SequentialLR seq) {
      for (LRScheduler inner : seq.schedulers) undo(inner);
    } else {
      s.lastEpoch--;
    }
  }

  private static int bisectRight(List<Long> sorted, long x) {
    int i = 0;
    while (i < sorted.size() && sorted.get(i) <= x) i++;
    return i;
  }

  @Override
  public void step() {
    lastEpoch++;
    int idx = bisectRight(milestones, lastEpoch);
    LRScheduler scheduler = schedulers.get(idx);
    if (idx > 0 && milestones.get(idx - 1) == lastEpoch) {
      scheduler.updateLr(0L);
    } else {
      scheduler.step();
    }
    lastLr = new ArrayList<>(scheduler.getLastLr());
  }

  @Override
  public void step(long epoch) {
    throw new UnsupportedOperationException("SequentialLR.step takes no epoch");
  }

  @Override
  void initialStep() {
    // Python's SequentialLR takes no initial step of its own (it skips LRScheduler.__init__);
    // nested in another one, the inherited _initial_step runs its step().
    step();
  }

  @Override
  protected List<Double> getLr() {
    throw new UnsupportedOperationException("SequentialLR delegates to its schedulers");
  }

  /** The schedulers, in order. */
  public List<LRScheduler> schedulers() {
    return schedulers;
  }

  @Override
  public LinkedHashMap<String, Object> stateDict() {
    LinkedHashMap<String, Object> out = new LinkedHashMap<>();
    out.put(MILESTONES, new ArrayList<Object>(milestones));
    out.put(LAST_EPOCH, lastEpoch);
    out.put(LAST_LR, new ArrayList<Object>(lastLr));
    List<Object> inner = new ArrayList<>();
    for (LRScheduler s : schedulers) inner.add(s.stateDict());
    out.put(SCHEDULERS, inner);
    return out;
  }

  @Override
  public void loadStateDict(Map<?, ?> stateDict) throws CheckpointException {
    Map<String, Object> state = stringKeys(stateDict);
    String where = "the SequentialLR state_dict";
    if (state.containsKey(SCHEDULERS)) {
      List<?> inner = PyValues.toList(state.get(SCHEDULERS), where + " '_schedulers'");
      if (inner.size() != schedulers.size()) {
        throw new CheckpointException(Kind.STATE_DICT_MISMATCH,
            where + " has " + inner.size() + " schedulers but this"
            + " SequentialLR has " + schedulers.size() + ": build it with the same schedulers");
      }
      for (int i = 0; i < inner.size(); i++) {
        schedulers.get(i).loadStateDict(PyValues.toMap(inner.get(i),
            where + " '_schedulers'[" + i + "]"));
      }
    }
    if (state.containsKey(MILESTONES)) {
      List<Long> loaded = PyValues.toLongs(state.get(MILESTONES), where + " '_milestones'");
      if (loaded.size() != schedulers.size() - 1) {
        throw new CheckpointException(Kind.INVALID_VALUE,
            where + " has " + loaded.size() + " milestones for "
            + schedulers.size() + " schedulers");
      }
      milestones = loaded;
    }
    lastEpoch = getLong(state, LAST_EPOCH, lastEpoch, where);
    lastLr = getDoubles(state, LAST_LR, lastLr, where);
  }
}
