package io.ckpt4j.checkpoint.sched;

import io.ckpt4j.checkpoint.optim.Optimizer;
import io.ckpt4j.checkpoint.optim.ParamGroup;
import java.util.List;
import java.util.function.LongToDoubleFunction;

/**
 * {@code MultiplicativeLR(optimizer, lr_lambda)}: each step multiplies the lr by
 * {@code lr_lambda(epoch)} (not on the initial step), with Java functions in place of Python's.
 * State as {@link LambdaLR}'s: {@code lr_lambdas} holds one {@code None} per group.
 */
public final class MultiplicativeLR extends LambdaScheduler {
  /** One function for every group. */
  public MultiplicativeLR(Optimizer optimizer, LongToDoubleFunction lrLambda) {
    this(optimizer, forEachGroup(optimizer, lrLambda), -1);
  }

  /** One function per group. */
  public MultiplicativeLR(Optimizer optimizer, List<LongToDoubleFunction> lrLambdas,
      long lastEpoch) {
    super(optimizer, lrLambdas);
    init(lastEpoch);
  }

  @Override
  protected List<Double> getLr() {
    List<Double> lrs = groupValues(ParamGroup.LR);
    return isInitial ? lrs : timesLambdas(lrs);
  }
}
