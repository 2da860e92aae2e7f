package io.ckpt4j.checkpoint.sched;

import io.ckpt4j.CheckpointException;
import io.ckpt4j.checkpoint.PyValues;
import io.ckpt4j.checkpoint.optim.ParamGroups;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.LongToDoubleFunction;

/**
 * {@code LambdaLR(optimizer, lr_lambda)}: each group's lr is {@code base_lr * lr_lambda(epoch)},
 * with a Java function in place of Python's lambda (one for all groups, or one per group).
 *
 * <p>The state dict has no functions, as in Python: {@code lr_lambdas} is a list with one
 * {@code None} per group (Python saves a callable object's {@code __dict__} there; such entries of
 * a loaded state dict are kept and written back, and the Java functions ignore them).
 */
public final class LambdaLR extends LRScheduler {
  static final String LR_LAMBDAS = "lr_lambdas";
  private final List<LongToDoubleFunction> lambdas;
  private List<Object> lambdaStates;

  /** One function for every group. */
  public LambdaLR(ParamGroups optimizer, LongToDoubleFunction lrLambda) {
    this(optimizer, Collections.nCopies(optimizer.paramGroups().size(), lrLambda), -1);
  }

  /** One function per group. */
  public LambdaLR(ParamGroups optimizer, List<LongToDoubleFunction> lrLambdas, long lastEpoch) {
    super(optimizer);
    this.lambdas = checkCount(optimizer, lrLambdas);
    this.lambdaStates = new ArrayList<>(Collections.nCopies(lambdas.size(), null));
    init(lastEpoch);
  }

  static List<LongToDoubleFunction> checkCount(ParamGroups optimizer,
      List<LongToDoubleFunction> lrLambdas) {
    if (lrLambdas.size() != optimizer.paramGroups().size()) {
      throw new IllegalArgumentException("Expected " + optimizer.paramGroups().size()
          + " lr_lambdas, but got " + lrLambdas.size());
    }
    return List.copyOf(lrLambdas);
  }

  @Override
  protected List<Double> getLr() {
    List<Double> out = new ArrayList<>();
    for (int i = 0; i < lambdas.size(); i++) {
      out.add(baseLrs.get(i) * lambdas.get(i).applyAsDouble(lastEpoch));
    }
    return out;
  }

  @Override
  protected void ownState(Map<String, Object> out) {}

  @Override
  protected void trailingState(Map<String, Object> out) {
    out.put(LR_LAMBDAS, new ArrayList<>(lambdaStates));
  }

  @Override
  protected void loadOwnState(Map<String, Object> state, String where)
      throws CheckpointException {
    lambdaStates = loadLambdaStates(state, lambdaStates.size(), where);
  }

  static List<Object> loadLambdaStates(Map<String, Object> state, int groups, String where)
      throws CheckpointException {
    if (!state.containsKey(LR_LAMBDAS)) return new ArrayList<>(Collections.nCopies(groups, null));
    List<?> saved = PyValues.toList(state.get(LR_LAMBDAS), where + " 'lr_lambdas'");
    if (saved.size() != groups) {
      throw new CheckpointException(where + " has " + saved.size() + " lr_lambdas for " + groups
          + " param groups: build the scheduler over the same param groups");
    }
    return new ArrayList<>(saved);
  }

  @Override
  protected Set<String> ownKeys() {
    return Set.of(LR_LAMBDAS);
  }
}
