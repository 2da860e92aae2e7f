/**
 * Training checkpoints in Python's format — {@code {"model", "optimizer", "lr_scheduler",
 * "epoch", "args", ...}} — read and written by {@link io.ckpt4j.checkpoint.Checkpoint}, so that a
 * run Python started resumes in Java and a run Java trained resumes in Python; PyTorch
 * Lightning's {@code .ckpt} ({@code {"state_dict", "optimizer_states", "lr_schedulers",
 * "epoch", "global_step", "hyper_parameters", ...}}) by
 * {@link io.ckpt4j.checkpoint.LightningCheckpoint}.
 *
 * <ul>
 *   <li>{@link io.ckpt4j.checkpoint.optim}: optimizers with Python's state dict layout (state by
 *       parameter index, param groups with their hyper-parameters and {@code params} lists),
 *       behind one {@link io.ckpt4j.checkpoint.optim.Optimizer} interface: SGD, Adam, AdamW,
 *       RMSprop and Adagrad, which compute Python 2.13's updates op for op.
 *   <li>{@link io.ckpt4j.checkpoint.sched}: Python's LR schedulers, their arithmetic and their
 *       state dicts (LibTorch has almost none of them).
 * </ul>
 *
 * <p>Resuming means what it does in Python: build the model, the optimizer over
 * {@code model.parameters()} in Python's order and the scheduler as the run did, then load the
 * three state dicts. The tests prove it both ways on a small conv + BatchNorm + Linear model:
 * Java continues Python's runs, Python continues Java's, to float32 rounding (the presets'
 * LibTorch and the torch wheel are different builds of the same kernels).
 */
package io.ckpt4j.checkpoint;
