package io.ckpt4j.checkpoint.sched;

import io.ckpt4j.CheckpointException;
import io.ckpt4j.checkpoint.optim.ParamGroup;
import io.ckpt4j.checkpoint.optim.ParamGroups;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.LongToDoubleFunction;

/**
 * {@code MultiplicativeLR(optimizer, lr_lambda)}: each step multiplies the lr by
 * {@code lr_lambda(epoch)} (not on the initial step), with Java functions in place of Python's.
 * State as {@link LambdaLR}'s: {@code lr_lambdas} holds one {@code None} per group.
 */
public final class MultiplicativeLR extends LRScheduler {
  private final List<LongToDoubleFunction> lambdas;
  private List<Object> lambdaStates;

  /** One function for every group. */
  public MultiplicativeLR(ParamGroups optimizer, LongToDoubleFunction lrLambda) {
    this(optimizer, Collections.nCopies(optimizer.paramGroups().size(), lrLambda), -1);
  }

  /** One function per group. */
  public MultiplicativeLR(ParamGroups optimizer, List<LongToDoubleFunction> lrLambdas,
      long lastEpoch) {
    super(optimizer);
    this.lambdas = LambdaLR.checkCount(optimizer, lrLambdas);
    this.lambdaStates = new ArrayList<>(Collections.nCopies(lambdas.size(), null));
    init(lastEpoch);
  }

  @Override
  protected List<Double> getLr() {
    List<Double> lrs = groupValues(ParamGroup.LR);
    if (isInitial) return lrs;
    List<Double> out = new ArrayList<>();
    for (int i = 0; i < lambdas.size(); i++) {
      out.add(lrs.get(i) * lambdas.get(i).applyAsDouble(lastEpoch));
    }
    return out;
  }

  @Override
  protected void ownState(Map<String, Object> out) {}

  @Override
  protected void trailingState(Map<String, Object> out) {
    out.put(LambdaLR.LR_LAMBDAS, new ArrayList<>(lambdaStates));
  }

  @Override
  protected void loadOwnState(Map<String, Object> state, String where)
      throws CheckpointException {
    lambdaStates = LambdaLR.loadLambdaStates(state, lambdaStates.size(), where);
  }

  @Override
  protected Set<String> ownKeys() {
    return Set.of(LambdaLR.LR_LAMBDAS);
  }
}
