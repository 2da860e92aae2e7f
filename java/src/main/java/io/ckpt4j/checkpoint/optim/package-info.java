/**
 * {@code torch.optim} for the JVM, with Python's {@code state_dict()} / {@code load_state_dict()}.
 *
 * <p>{@link io.ckpt4j.checkpoint.optim.SGD}, {@link io.ckpt4j.checkpoint.optim.Adam},
 * {@link io.ckpt4j.checkpoint.optim.AdamW}, {@link io.ckpt4j.checkpoint.optim.RMSprop} and
 * {@link io.ckpt4j.checkpoint.optim.Adagrad} compute Python 2.13's single-tensor updates
 * ({@code foreach=False}, what Python runs on the CPU) with LibTorch tensor ops, in Python's
 * order — LibTorch's own C++ optimizers differ for Adam, AdamW and centered RMSprop
 * ({@code mul_/add_} where Python uses {@code lerp_}) and keep {@code step} as an int64 where
 * Python has a float32 tensor, so a run resumed with them drifts from Python's.
 *
 * <p>{@link io.ckpt4j.checkpoint.optim.OptimizerStateDict} is the state dict as Python lays it
 * out; {@link io.ckpt4j.checkpoint.optim.ParamGroup} a param group;
 * {@link io.ckpt4j.checkpoint.optim.ParamGroups} what LR schedulers see of an optimizer.
 * Loading checks what Python checks (the number of groups, each group's size) and more (each
 * state tensor's shape, the state and hyper-parameters the update reads), failing with one line
 * that says what differs.
 *
 * <p>Complex parameters, sparse gradients and Python's {@code capturable}, {@code differentiable},
 * {@code fused} and {@code foreach} paths are not implemented: the last two are kept in the state
 * dict as they are and the CPU single-tensor update is used.
 */
package io.ckpt4j.checkpoint.optim;
