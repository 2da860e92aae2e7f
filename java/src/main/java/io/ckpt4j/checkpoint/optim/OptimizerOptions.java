package io.ckpt4j.checkpoint.optim;

import java.util.LinkedHashMap;

/**
 * The keyword arguments of a {@code torch.optim} optimizer's constructor, in Python's key order
 * and with Python's value types: each optimizer's {@code Options} starts from Python's defaults,
 * and its setters replace them. The ones every optimizer here takes are set here.
 *
 * @param <O> the optimizer's own {@code Options}, which the setters return
 */
public abstract class OptimizerOptions<O extends OptimizerOptions<O>> {
  final LinkedHashMap<String, Object> values = new LinkedHashMap<>();

  OptimizerOptions() {}

  public O lr(double lr) {
    return set(ParamGroup.LR, lr);
  }

  public O weightDecay(double weightDecay) {
    return set("weight_decay", weightDecay);
  }

  public O maximize(boolean maximize) {
    return set("maximize", maximize);
  }

  /** Sets the keyword argument {@code key} (a new one goes last, as in Python's dict). */
  @SuppressWarnings("unchecked") // each subclass is its own O
  final O set(String key, Object value) {
    values.put(key, value);
    return (O) this;
  }
}
