package io.ckpt4j.checkpoint.optim;

import static io.ckpt4j.checkpoint.optim.OptimMath.s;

import io.ckpt4j.CheckpointException;
import java.util.List;
import java.util.Map;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;

/**
 * {@code torch.optim.Adagrad}: lr decay, weight decay, initial accumulator value, eps, maximize.
 * Unlike the others its state exists from construction: every parameter gets {@code step} (0-dim
 * float32, 0) and {@code sum} (filled with {@code initial_accumulator_value}), as in Python.
 *
 * <p>The update is Python 2.13's {@code _single_tensor_adagrad} (dense gradients):
 * <pre>
 * step += 1; if weight_decay != 0: g = g + wd * p
 * clr = lr / (1 + (step - 1) * lr_decay)
 * sum.addcmul_(g, g, value=1); p.addcdiv_(g, sum.sqrt().add_(eps), value=-clr)
 * </pre>
 */
public class Adagrad extends AbstractOptimizer {
  static final String SUM = "sum";

  /** {@code Adagrad(params, lr=..., ...)} over one group (e.g. a module's {@code parameters()}). */
  public Adagrad(TensorVector params, Options options) {
    this(List.of(ParamGroup.of(params)), options);
  }

  /** {@code Adagrad([{"params": ..., ...}, ...], lr=..., ...)}. */
  public Adagrad(List<ParamGroup> groups, Options options) {
    super("Adagrad", groups, options.values);
    int index = 0;
    for (ParamGroup group : paramGroups()) {
      for (Tensor p : group.params()) initState(state(index++), group, p);
    }
  }

  /** {@code step = 0}, {@code sum = full_like(p, initial_accumulator_value)}. */
  private static void initState(Map<String, Object> state, ParamGroup group, Tensor p) {
    state.put(STEP, keep(OptimMath.stepTensor(0)));
    try (Scalar fill = new Scalar(number(group, "initial_accumulator_value"))) {
      state.put(SUM, keep(torch.full_like(p, fill)));
    }
  }

  /**
   * Python's defaults: {@code lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0,
   * eps=1e-10}.
   */
  public static Options options() {
    return new Options();
  }

  /** The constructor's keyword arguments, with Python's defaults and value types. */
  public static final class Options extends OptimizerOptions<Options> {
    private Options() {
      values.put("lr", 1e-2);
      values.put("lr_decay", 0L);
      values.put("eps", 1e-10);
      values.put("weight_decay", 0L);
      values.put("initial_accumulator_value", 0L);
      values.put("foreach", null);
      values.put("maximize", false);
      values.put("differentiable", false);
      values.put("fused", null);
    }

    public Options lrDecay(double lrDecay) {
      return set("lr_decay", lrDecay);
    }

    public Options eps(double eps) {
      return set("eps", eps);
    }

    public Options initialAccumulatorValue(double value) {
      return set("initial_accumulator_value", value);
    }
  }

  @Override
  protected void update(ParamGroup group, int firstIndex) {
    double lr = number(group, ParamGroup.LR);
    double lrDecay = number(group, "lr_decay");
    double eps = number(group, "eps");
    double weightDecay = number(group, "weight_decay");
    forEachGradient(group, firstIndex, (index, p, grad) -> {
      Map<String, Object> state = state(index);
      if (state.isEmpty()) initState(state, group, p); // a parameter the loaded state lacked
      Tensor stepT = (Tensor) state.get(STEP);
      stepT.add_(s(1));
      double step = OptimMath.stepValue(stepT);
      if (weightDecay != 0) grad = grad.add(p, s(weightDecay));
      double clr = lr / (1 + (step - 1) * lrDecay);
      Tensor sum = (Tensor) state.get(SUM);
      sum.addcmul_(grad, grad, s(1));
      Tensor std = sum.sqrt().add_(s(eps));
      p.addcdiv_(grad, std, s(-clr));
    });
  }

  @Override
  protected void completeOptions(Map<String, Object> options) {
    options.putIfAbsent("foreach", null);
    options.putIfAbsent("maximize", false);
    options.putIfAbsent("differentiable", false);
    options.putIfAbsent("fused", null);
  }

  @Override
  protected void checkOptions(Map<String, Object> options, String where)
      throws CheckpointException {
    requireNumbers(options, where, "lr", "lr_decay", "eps", "weight_decay",
        "initial_accumulator_value");
    requireBooleans(options, where, "maximize");
  }

  @Override
  protected void checkState(int index, Map<String, Object> state, Map<String, Object> options)
      throws CheckpointException {
    requireSteppedState(index, state, SUM);
  }
}
