package io.ckpt4j.checkpoint.optim;

import static io.ckpt4j.checkpoint.optim.OptimMath.s;

import io.ckpt4j.CheckpointException;
import io.ckpt4j.value.PyValues;
import java.util.List;
import java.util.Map;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;

/**
 * {@code torch.optim.RMSprop}: alpha, eps, weight decay, momentum, centered, maximize. State per
 * parameter: {@code step} (0-dim float32), {@code square_avg}, {@code momentum_buffer} when
 * {@code momentum > 0}, {@code grad_avg} when centered.
 *
 * <p>The update is Python 2.13's {@code _single_tensor_rmsprop} (LibTorch's C++ RMSprop updates
 * {@code grad_avg} with {@code mul_/add_} where Python uses {@code lerp_}):
 * <pre>
 * step += 1; if weight_decay != 0: g = g + wd * p
 * square_avg.mul_(alpha).addcmul_(g, g, value=1 - alpha)
 * avg = (square_avg - grad_avg.lerp_(g, 1 - alpha) ** 2).sqrt_() if centered else square_avg.sqrt()
 * avg.add_(eps)
 * momentum > 0: buf.mul_(momentum).addcdiv_(g, avg); p.add_(buf, alpha=-lr)
 * else:         p.addcdiv_(g, avg, value=-lr)
 * </pre>
 */
public class RMSprop extends AbstractOptimizer {
  static final String SQUARE_AVG = "square_avg";
  static final String MOMENTUM_BUFFER = "momentum_buffer";
  static final String GRAD_AVG = "grad_avg";

  /** {@code RMSprop(params, lr=..., ...)} over one group (e.g. a module's {@code parameters()}). */
  public RMSprop(TensorVector params, Options options) {
    this(List.of(ParamGroup.of(params)), options);
  }

  /** {@code RMSprop([{"params": ..., ...}, ...], lr=..., ...)}. */
  public RMSprop(List<ParamGroup> groups, Options options) {
    super("RMSprop", groups, options.values);
  }

  /**
   * Python's defaults: {@code lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0,
   * centered=False}.
   */
  public static Options options() {
    return new Options();
  }

  /** The constructor's keyword arguments, with Python's defaults and value types. */
  public static final class Options extends OptimizerOptions<Options> {
    private Options() {
      values.put("lr", 1e-2);
      values.put("momentum", 0L);
      values.put("alpha", 0.99);
      values.put("eps", 1e-8);
      values.put("centered", false);
      values.put("weight_decay", 0L);
      values.put("capturable", false);
      values.put("foreach", null);
      values.put("maximize", false);
      values.put("differentiable", false);
    }

    public Options alpha(double alpha) {
      return set("alpha", alpha);
    }

    public Options eps(double eps) {
      return set("eps", eps);
    }

    public Options momentum(double momentum) {
      return set("momentum", momentum);
    }

    public Options centered(boolean centered) {
      return set("centered", centered);
    }
  }

  @Override
  protected void update(ParamGroup group, int firstIndex) {
    double lr = number(group, ParamGroup.LR);
    double alpha = number(group, "alpha");
    double eps = number(group, "eps");
    double weightDecay = number(group, "weight_decay");
    double momentum = number(group, "momentum");
    boolean centered = flag(group, "centered");
    forEachGradient(group, firstIndex, (index, p, grad) -> {
      Map<String, Object> state = state(index);
      if (state.isEmpty()) {
        state.put(STEP, keep(OptimMath.stepTensor(0)));
        state.put(SQUARE_AVG, keep(torch.zeros_like(p)));
        if (momentum > 0) state.put(MOMENTUM_BUFFER, keep(torch.zeros_like(p)));
        if (centered) state.put(GRAD_AVG, keep(torch.zeros_like(p)));
      }
      Tensor squareAvg = (Tensor) state.get(SQUARE_AVG);
      ((Tensor) state.get(STEP)).add_(s(1));
      if (weightDecay != 0) grad = grad.add(p, s(weightDecay));
      squareAvg.mul_(s(alpha)).addcmul_(grad, grad, s(1 - alpha));
      Tensor avg;
      if (centered) {
        Tensor gradAvg = (Tensor) state.get(GRAD_AVG);
        gradAvg.lerp_(grad, s(1 - alpha));
        avg = squareAvg.addcmul(gradAvg, gradAvg, s(-1)).sqrt_();
      } else {
        avg = squareAvg.sqrt();
      }
      avg = avg.add_(s(eps));
      if (momentum > 0) {
        Tensor buf = (Tensor) state.get(MOMENTUM_BUFFER);
        buf.mul_(s(momentum)).addcdiv_(grad, avg);
        p.add_(buf, s(-lr));
      } else {
        p.addcdiv_(grad, avg, s(-lr));
      }
    });
  }

  @Override
  protected void completeOptions(Map<String, Object> options) {
    options.putIfAbsent("momentum", 0L);
    options.putIfAbsent("centered", false);
    options.putIfAbsent("foreach", null);
    options.putIfAbsent("maximize", false);
    options.putIfAbsent("differentiable", false);
    options.putIfAbsent("capturable", false);
  }

  @Override
  protected void checkOptions(Map<String, Object> options, String where)
      throws CheckpointException {
    requireNumbers(options, where, "lr", "alpha", "eps", "weight_decay", "momentum");
    requireBooleans(options, where, "centered", "maximize");
  }

  @Override
  protected void checkState(int index, Map<String, Object> state, Map<String, Object> options)
      throws CheckpointException {
    requireSteppedState(index, state, SQUARE_AVG);
    if (PyValues.toDouble(options.get("momentum"), "momentum") > 0) {
      requireTensor(index, state, MOMENTUM_BUFFER);
    }
    if (PyValues.toBoolean(options.get("centered"), "centered")) {
      requireTensor(index, state, GRAD_AVG);
    }
  }
}
