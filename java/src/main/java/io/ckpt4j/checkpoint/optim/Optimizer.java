package io.ckpt4j.checkpoint.optim;

import io.ckpt4j.CheckpointException;
import io.ckpt4j.CheckpointException.Kind;
import io.ckpt4j.value.PyValues;
import io.ckpt4j.value.PythonTypes;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.bytedeco.pytorch.Tensor;

/**
 * A {@code torch.optim} optimizer, as a training loop, an LR scheduler and a checkpoint use it,
 * in Python's vocabulary:
 * <pre>
 * try (Optimizer optimizer = new SGD(module.parameters(), SGD.options().lr(0.1).momentum(0.9))) {
 *   optimizer.zeroGrad(); loss.backward(); optimizer.step();
 *   optimizer.paramGroups().get(0).setLr(0.01);        // group["lr"] = 0.01
 *   checkpoint.optimizer(optimizer.stateDict());       // optimizer.state_dict()
 *   optimizer.loadStateDict(ckpt.optimizer());         // optimizer.load_state_dict(...)
 * }
 * </pre>
 *
 * <p>The optimizers are {@link SGD}, {@link Adam}, {@link AdamW}, {@link RMSprop} and
 * {@link Adagrad}: Python 2.13's updates op for op, so a run resumed here continues as it would
 * have in Python. A new one extends {@link AbstractOptimizer}.
 *
 * <p>Parameters are numbered as Python numbers them in the state dict: across the groups, in
 * order. Owns its state tensors and its references to the parameters until {@link #close()}
 * (twice is harmless). Not thread-safe.
 */
public interface Optimizer extends AutoCloseable {
  /** Python's class name of this optimizer, e.g. {@code "AdamW"}. */
  String name();

  /**
   * {@code optimizer.param_groups}: each group's parameters and hyper-parameters ({@code lr},
   * {@code momentum}, {@code betas}, ...), which LR schedulers read and write.
   */
  List<ParamGroup> paramGroups();

  /**
   * {@code optimizer.defaults}: the hyper-parameters a group gets when it does not set them
   * (OneCycleLR cycles {@code betas[0]} when they have {@code betas}, else {@code momentum}).
   */
  Map<String, Object> defaults();

  /** Every parameter, in Python's index order (read-only; the tensors are the model's). */
  List<Tensor> parameters();

  /** {@code optimizer.step()}: one update of every parameter that has a gradient. */
  void step();

  /** {@code optimizer.zero_grad()} ({@code set_to_none=True}): every gradient becomes undefined. */
  void zeroGrad();

  /**
   * {@code optimizer.state_dict()}: the per-parameter state by index and the groups'
   * hyper-parameters with their {@code params} index lists. Shares this optimizer's state
   * tensors, as Python's does; close it once written.
   */
  OptimizerStateDict stateDict();

  /**
   * {@code optimizer.load_state_dict(state_dict)}: the saved groups' hyper-parameters replace
   * this optimizer's and each parameter takes the state saved for the parameter at its position.
   * A state dict that does not fit changes nothing.
   *
   * @throws CheckpointException when the state dict does not fit this optimizer: one line that
   *     says what differs
   */
  void loadStateDict(OptimizerStateDict stateDict) throws CheckpointException;

  /** Releases the state tensors and the parameter references; a second close does nothing. */
  @Override
  void close();
}
