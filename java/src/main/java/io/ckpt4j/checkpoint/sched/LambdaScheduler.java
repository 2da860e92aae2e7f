package io.ckpt4j.checkpoint.sched;

import io.ckpt4j.CheckpointException;
import io.ckpt4j.CheckpointException.Kind;
import io.ckpt4j.checkpoint.optim.Optimizer;
import io.ckpt4j.value.PyValues;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.LongToDoubleFunction;

/**
 * What {@link LambdaLR} and {@link MultiplicativeLR} share: one Java function per param group in
 * place of Python's {@code lr_lambda}s, and their state, {@code lr_lambdas} after the base fields
 * (one {@code None} per group, or what a loaded state dict had there: see {@link LambdaLR}).
 */
abstract class LambdaScheduler extends LRScheduler {
  private static final String LR_LAMBDAS = "lr_lambdas";
  private final List<LongToDoubleFunction> lambdas;
  private List<Object> lambdaStates;

  /** Takes the functions; the subclass then calls {@link #init}. */
  LambdaScheduler(Optimizer optimizer, List<LongToDoubleFunction> lrLambdas) {
    super(optimizer);
    if (lrLambdas.size() != optimizer.paramGroups().size()) {
      throw new IllegalArgumentException("Expected " + optimizer.paramGroups().size()
          + " lr_lambdas, but got " + lrLambdas.size());
    }
    this.lambdas = List.copyOf(lrLambdas);
    this.lambdaStates = noneEach(lambdas.size());
  }

  /** {@code lrLambda} for each of the optimizer's groups. */
  static List<LongToDoubleFunction> forEachGroup(Optimizer optimizer,
      LongToDoubleFunction lrLambda) {
    return Collections.nCopies(optimizer.paramGroups().size(), lrLambda);
  }

  /** Each group's value in {@code values} times its function of {@code last_epoch}. */
  final List<Double> timesLambdas(List<Double> values) {
    List<Double> out = new ArrayList<>();
    for (int i = 0; i < lambdas.size(); i++) {
      out.add(values.get(i) * lambdas.get(i).applyAsDouble(lastEpoch));
    }
    return out;
  }

  @Override
  protected final void trailingState(Map<String, Object> out) {
    out.put(LR_LAMBDAS, new ArrayList<>(lambdaStates));
  }

  @Override
  protected final void loadOwnState(Map<String, Object> state, String where)
      throws CheckpointException {
    int groups = lambdaStates.size();
    if (!state.containsKey(LR_LAMBDAS)) {
      lambdaStates = noneEach(groups);
      return;
    }
    List<?> saved = PyValues.toList(state.get(LR_LAMBDAS), where + " 'lr_lambdas'");
    if (saved.size() != groups) {
      throw new CheckpointException(Kind.STATE_DICT_MISMATCH,
          where + " has " + saved.size() + " lr_lambdas for " + groups
          + " param groups: build the scheduler over the same param groups");
    }
    lambdaStates = new ArrayList<>(saved);
  }

  @Override
  protected final Set<String> ownKeys() {
    return Set.of(LR_LAMBDAS);
  }

  private static List<Object> noneEach(int groups) {
    return new ArrayList<>(Collections.nCopies(groups, null));
  }
}
