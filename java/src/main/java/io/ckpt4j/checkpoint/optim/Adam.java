package io.ckpt4j.checkpoint.optim;

import static io.ckpt4j.checkpoint.optim.OptimMath.s;

import io.ckpt4j.CheckpointException;
import io.ckpt4j.CheckpointException.Kind;
import io.ckpt4j.value.PyTuple;
import io.ckpt4j.value.PyValues;
import java.util.List;
import java.util.Map;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;

/**
 * {@code torch.optim.Adam} (and, with {@code decoupled_weight_decay}, {@link AdamW}): betas, eps,
 * weight decay, amsgrad, maximize. State per parameter: {@code step} (a 0-dim float32 tensor, as
 * Python keeps it), {@code exp_avg}, {@code exp_avg_sq}, and {@code max_exp_avg_sq} with amsgrad.
 *
 * <p>The update is Python 2.13's {@code _single_tensor_adam}, op for op — LibTorch's C++ Adam
 * differs ({@code exp_avg.mul_(beta1).add_(grad, 1 - beta1)} where Python uses
 * {@code exp_avg.lerp_(grad, 1 - beta1)}, and an integer step), which drifts from Python's
 * numbers by float32 rounding each step:
 * <pre>
 * step += 1
 * if weight_decay != 0: p.mul_(1 - lr * wd) if decoupled else g = g + wd * p
 * exp_avg.lerp_(g, 1 - beta1); exp_avg_sq.mul_(beta2).addcmul_(g, g, value=1 - beta2)
 * bc1 = 1 - beta1 ** step; bc2 = 1 - beta2 ** step; step_size = lr / bc1
 * v = max_exp_avg_sq = maximum(max_exp_avg_sq, exp_avg_sq) if amsgrad else exp_avg_sq
 * p.addcdiv_(exp_avg, (v.sqrt() / bc2 ** 0.5).add_(eps), value=-step_size)
 * </pre>
 */
public class Adam extends AbstractOptimizer {
  static final String EXP_AVG = "exp_avg";
  static final String EXP_AVG_SQ = "exp_avg_sq";
  static final String MAX_EXP_AVG_SQ = "max_exp_avg_sq";
  static final String BETAS = "betas";
  /** Python computes {@code bias_correction2 ** 0.5}: a pow, not a sqrt. */
  private static final double SQRT_EXPONENT = 0.5;

  /** {@code Adam(params, lr=..., betas=..., ...)} over one group: a module's parameters. */
  public Adam(TensorVector params, Options options) {
    this(List.of(ParamGroup.of(params)), options);
  }

  /** {@code Adam([{"params": ..., ...}, ...], lr=..., ...)}. */
  public Adam(List<ParamGroup> groups, Options options) {
    this("Adam", groups, options);
  }

  Adam(String name, List<ParamGroup> groups, Options options) {
    super(name, groups, options.values);
  }

  /**
   * Python's defaults: {@code lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
   * amsgrad=False}.
   */
  public static Options options() {
    return new Options(0L, false);
  }

  /** The constructor's keyword arguments, with Python's defaults and value types. */
  public static final class Options extends OptimizerOptions<Options> {
    Options(Object weightDecay, boolean decoupled) {
      values.put("lr", 1e-3);
      values.put(BETAS, PyTuple.of(0.9, 0.999));
      values.put("eps", 1e-8);
      values.put("weight_decay", weightDecay);
      values.put("amsgrad", false);
      values.put("maximize", false);
      values.put("foreach", null);
      values.put("capturable", false);
      values.put("differentiable", false);
      values.put("fused", null);
      values.put("decoupled_weight_decay", decoupled);
    }

    /** A copy with {@code decoupled_weight_decay=True}: what AdamW always passes. */
    Options decoupled() {
      Options copy = new Options(values.get("weight_decay"), true);
      copy.values.putAll(values);
      copy.values.put("decoupled_weight_decay", true);
      return copy;
    }

    public Options betas(double beta1, double beta2) {
      return set(BETAS, PyTuple.of(beta1, beta2));
    }

    public Options eps(double eps) {
      return set("eps", eps);
    }

    public Options amsgrad(boolean amsgrad) {
      return set("amsgrad", amsgrad);
    }
  }

  @Override
  protected void update(ParamGroup group, int firstIndex) {
    double lr = number(group, ParamGroup.LR);
    List<?> betas = (List<?>) group.get(BETAS);
    double beta1 = ((Number) betas.get(0)).doubleValue();
    double beta2 = ((Number) betas.get(1)).doubleValue();
    double eps = number(group, "eps");
    double weightDecay = number(group, "weight_decay");
    boolean amsgrad = flag(group, "amsgrad");
    boolean decoupled = flag(group, "decoupled_weight_decay");
    forEachGradient(group, firstIndex, (index, p, grad) -> {
      Map<String, Object> state = state(index);
      if (state.isEmpty()) {
        state.put(STEP, keep(OptimMath.stepTensor(0)));
        state.put(EXP_AVG, keep(torch.zeros_like(p)));
        state.put(EXP_AVG_SQ, keep(torch.zeros_like(p)));
        if (amsgrad) state.put(MAX_EXP_AVG_SQ, keep(torch.zeros_like(p)));
      }
      Tensor expAvg = (Tensor) state.get(EXP_AVG);
      Tensor expAvgSq = (Tensor) state.get(EXP_AVG_SQ);
      Tensor stepT = (Tensor) state.get(STEP);
      stepT.add_(s(1));
      if (weightDecay != 0) {
        if (decoupled) {
          p.mul_(s(1 - lr * weightDecay));
        } else {
          grad = grad.add(p, s(weightDecay));
        }
      }
      expAvg.lerp_(grad, s(1 - beta1));
      expAvgSq.mul_(s(beta2)).addcmul_(grad, grad, s(1 - beta2));
      double step = OptimMath.stepValue(stepT);
      double biasCorrection1 = 1 - Math.pow(beta1, step);
      double biasCorrection2 = 1 - Math.pow(beta2, step);
      double stepSize = lr / biasCorrection1;
      double biasCorrection2Sqrt = Math.pow(biasCorrection2, SQRT_EXPONENT);
      Tensor denom;
      if (amsgrad) {
        Tensor maxExpAvgSq = (Tensor) state.get(MAX_EXP_AVG_SQ);
        torch.maximum_out(maxExpAvgSq, maxExpAvgSq, expAvgSq);
        denom = maxExpAvgSq.sqrt().div(s(biasCorrection2Sqrt)).add_(s(eps));
      } else {
        denom = expAvgSq.sqrt().div(s(biasCorrection2Sqrt)).add_(s(eps));
      }
      p.addcdiv_(expAvg, denom, s(-stepSize));
    });
  }

  @Override
  protected void completeOptions(Map<String, Object> options) {
    options.putIfAbsent("amsgrad", false);
    options.putIfAbsent("maximize", false);
    options.putIfAbsent("foreach", null);
    options.putIfAbsent("capturable", false);
    options.putIfAbsent("differentiable", false);
    options.putIfAbsent("decoupled_weight_decay", false);
    options.putIfAbsent("fused", null);
  }

  @Override
  protected void checkOptions(Map<String, Object> options, String where)
      throws CheckpointException {
    requireNumbers(options, where, "lr", "eps", "weight_decay");
    requireBooleans(options, where, "amsgrad", "maximize", "decoupled_weight_decay");
    List<Double> betas = PyValues.toDoubles(PyValues.require(options, BETAS, where),
        where + " 'betas'");
    if (betas.size() != 2) {
      throw new CheckpointException(Kind.INVALID_VALUE,
          where + " 'betas' must hold 2 numbers, not " + betas.size());
    }
  }

  @Override
  protected void checkState(int index, Map<String, Object> state, Map<String, Object> options)
      throws CheckpointException {
    requireSteppedState(index, state, EXP_AVG, EXP_AVG_SQ);
    if (PyValues.toBoolean(options.get("amsgrad"), "amsgrad")) {
      requireTensor(index, state, MAX_EXP_AVG_SQ);
    }
  }
}
