package io.ckpt4j.checkpoint.optim;

import static io.ckpt4j.checkpoint.optim.OptimMath.s;

import io.ckpt4j.CheckpointException;
import java.util.List;
import java.util.Map;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;

/**
 * {@code torch.optim.SGD}: momentum, dampening, Nesterov momentum, weight decay, maximize. The
 * state of a parameter is its {@code momentum_buffer} (none when {@code momentum == 0}); on the
 * first step the buffer is a copy of the gradient (after weight decay), as in Python — not
 * {@code momentum * 0 + (1 - dampening) * grad}.
 *
 * <p>The update, per parameter with a gradient (Python 2.13's {@code _single_tensor_sgd}):
 * <pre>
 * g = -grad if maximize else grad
 * if weight_decay != 0: g = g + weight_decay * p
 * if momentum != 0:
 *     buf = g.clone() on the first step, else buf.mul_(momentum).add_(g, alpha=1 - dampening)
 *     g = g + momentum * buf if nesterov else buf
 * p.add_(g, alpha=-lr)
 * </pre>
 */
public class SGD extends AbstractOptimizer {
  static final String MOMENTUM_BUFFER = "momentum_buffer";

  /** {@code SGD(params, lr=..., momentum=..., ...)} over one group: a module's parameters. */
  public SGD(TensorVector params, Options options) {
    this(List.of(ParamGroup.of(params)), options);
  }

  /** {@code SGD([{"params": ..., ...}, ...], lr=..., ...)}. */
  public SGD(List<ParamGroup> groups, Options options) {
    super("SGD", groups, options.values);
    if (options.nesterov && (options.momentum() <= 0 || options.dampening() != 0)) {
      throw new IllegalArgumentException(
          "Nesterov momentum requires a momentum and zero dampening");
    }
  }

  /**
   * Python's defaults: {@code lr=1e-3, momentum=0, dampening=0, weight_decay=0,
   * nesterov=False}.
   */
  public static Options options() {
    return new Options();
  }

  /** The constructor's keyword arguments, with Python's defaults and value types. */
  public static final class Options extends OptimizerOptions<Options> {
    private boolean nesterov;

    private Options() {
      values.put("lr", 1e-3);
      values.put("momentum", 0L);
      values.put("dampening", 0L);
      values.put("weight_decay", 0L);
      values.put("nesterov", false);
      values.put("maximize", false);
      values.put("foreach", null);
      values.put("differentiable", false);
      values.put("fused", null);
    }

    public Options momentum(double momentum) {
      return set("momentum", momentum);
    }

    public Options dampening(double dampening) {
      return set("dampening", dampening);
    }

    public Options nesterov(boolean nesterov) {
      this.nesterov = nesterov;
      return set("nesterov", nesterov);
    }

    double momentum() {
      return ((Number) values.get("momentum")).doubleValue();
    }

    double dampening() {
      return ((Number) values.get("dampening")).doubleValue();
    }
  }

  @Override
  protected void update(ParamGroup group, int firstIndex) {
    double weightDecay = number(group, "weight_decay");
    double momentum = number(group, "momentum");
    double dampening = number(group, "dampening");
    boolean nesterov = flag(group, "nesterov");
    double lr = number(group, ParamGroup.LR);
    forEachGradient(group, firstIndex, (index, p, grad) -> {
      if (weightDecay != 0) grad = grad.add(p, s(weightDecay));
      if (momentum != 0) {
        Map<String, Object> state = state(index);
        Tensor buf = (Tensor) state.get(MOMENTUM_BUFFER);
        if (buf == null) {
          buf = keep(grad.detach().clone());
          state.put(MOMENTUM_BUFFER, buf);
        } else {
          buf.mul_(s(momentum)).add_(grad, s(1 - dampening));
        }
        grad = nesterov ? grad.add(buf, s(momentum)) : buf;
      }
      p.add_(grad, s(-lr));
    });
  }

  @Override
  protected void completeOptions(Map<String, Object> options) {
    options.putIfAbsent("nesterov", false);
    options.putIfAbsent("maximize", false);
    options.putIfAbsent("foreach", null);
    options.putIfAbsent("differentiable", false);
    options.putIfAbsent("fused", false);
  }

  @Override
  protected void checkOptions(Map<String, Object> options, String where)
      throws CheckpointException {
    requireNumbers(options, where, "lr", "momentum", "dampening", "weight_decay");
    requireBooleans(options, where, "nesterov", "maximize");
  }

  @Override
  protected void checkState(int index, Map<String, Object> state, Map<String, Object> options)
      throws CheckpointException {
    if (state.containsKey(MOMENTUM_BUFFER) && state.get(MOMENTUM_BUFFER) != null) {
      requireTensor(index, state, MOMENTUM_BUFFER);
    }
  }
}
