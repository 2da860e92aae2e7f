package io.ckpt4j.checkpoint.sched;

import io.ckpt4j.checkpoint.optim.Optimizer;
import java.util.List;
import java.util.function.LongToDoubleFunction;

/**
 * {@code LambdaLR(optimizer, lr_lambda)}: each group's lr is {@code base_lr * lr_lambda(epoch)},
 * with a Java function in place of Python's lambda (one for all groups, or one per group).
 *
 * <p>The state dict has no functions, as in Python: {@code lr_lambdas} is a list with one
 * {@code None} per group (Python saves a callable object's {@code __dict__} there; such entries of
 * a loaded state dict are kept and written back, and the Java functions ignore them).
 */
public final class LambdaLR extends LambdaScheduler {
  /** One function for every group. */
  public LambdaLR(Optimizer optimizer, LongToDoubleFunction lrLambda) {
    this(optimizer, forEachGroup(optimizer, lrLambda), -1);
  }

  /** One function per group. */
  public LambdaLR(Optimizer optimizer, List<LongToDoubleFunction> lrLambdas, long lastEpoch) {
    super(optimizer, lrLambdas);
    init(lastEpoch);
  }

  @Override
  protected List<Double> getLr() {
    return timesLambdas(baseLrs);
  }
}
