/**
 * {@code torch.optim} for the JVM, with Python's {@code state_dict()} / {@code load_state_dict()}.
 *
 * <p>{@link io.ckpt4j.checkpoint.optim.Optimizer} is what a training loop, an LR scheduler and a
 * checkpoint use: {@code step()}, {@code zeroGrad()}, {@code paramGroups()},
 * {@code stateDict()} / {@code loadStateDict()}. {@link io.ckpt4j.checkpoint.optim.SGD},
 * {@link io.ckpt4j.checkpoint.optim.Adam}, {@link io.ckpt4j.checkpoint.optim.AdamW},
 * {@link io.ckpt4j.checkpoint.optim.RMSprop} and {@link io.ckpt4j.checkpoint.optim.Adagrad}
 * implement it: each computes Python 2.13's single-tensor update ({@code foreach=False}, what
 * Python runs on the CPU) with LibTorch tensor ops, in Python's order, on
 * {@link io.ckpt4j.checkpoint.optim.AbstractOptimizer} (Python's {@code Optimizer} base: param
 * groups, state, state dicts). They are not LibTorch's C++ optimizers ({@code torch::optim}),
 * which differ for Adam, AdamW and centered RMSprop ({@code mul_/add_} where Python uses
 * {@code lerp_}) and keep {@code step} as an int64 where Python has a float32 tensor, so a run
 * resumed with them drifts from Python's. A new optimizer extends {@code AbstractOptimizer} in
 * this package, transcribing Python's {@code _single_tensor_*} function.
 *
 * <p>{@link io.ckpt4j.checkpoint.optim.OptimizerStateDict} is the state dict as Python lays it
 * out; {@link io.ckpt4j.checkpoint.optim.ParamGroup} a param group. Loading checks what Python
 * checks (the number of groups, each group's size) and more (each state tensor's shape, the state
 * and hyper-parameters the update reads), failing with one line that says what differs.
 *
 * <p>Complex parameters, sparse gradients and Python's {@code capturable}, {@code differentiable},
 * {@code fused} and {@code foreach} paths are not implemented: the last two are kept in the state
 * dict as they are and the CPU single-tensor update is used.
 */
package io.ckpt4j.checkpoint.optim;
