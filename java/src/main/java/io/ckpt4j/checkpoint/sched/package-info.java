/**
 * {@code torch.optim.lr_scheduler} for the JVM: {@link io.ckpt4j.checkpoint.sched.StepLR},
 * {@link io.ckpt4j.checkpoint.sched.MultiStepLR}, {@link io.ckpt4j.checkpoint.sched.ConstantLR},
 * {@link io.ckpt4j.checkpoint.sched.LinearLR}, {@link io.ckpt4j.checkpoint.sched.ExponentialLR},
 * {@link io.ckpt4j.checkpoint.sched.PolynomialLR},
 * {@link io.ckpt4j.checkpoint.sched.CosineAnnealingLR},
 * {@link io.ckpt4j.checkpoint.sched.LambdaLR}, {@link io.ckpt4j.checkpoint.sched.MultiplicativeLR},
 * {@link io.ckpt4j.checkpoint.sched.OneCycleLR}, {@link io.ckpt4j.checkpoint.sched.SequentialLR}
 * and {@link io.ckpt4j.checkpoint.sched.ReduceLROnPlateau}.
 *
 * <p>Each computes Python 2.13's numbers: the same chained (recursive) form step by step, the
 * same closed forms where Python uses them, the same double-precision operations in the same
 * order, so the learning rates come out as Python's doubles. Each writes and reads Python's
 * {@code state_dict()}: the same keys in the same order with the same value types
 * ({@code base_lrs}, {@code last_epoch}, {@code _step_count}, {@code _is_initial},
 * {@code _get_lr_called_within_step}, {@code _last_lr}, and the scheduler's own fields). Java
 * functions take the place of LambdaLR's and MultiplicativeLR's lambdas, which Python's state
 * dicts do not hold either. ChainedScheduler, CyclicLR and CosineAnnealingWarmRestarts are not
 * implemented yet.
 */
package io.ckpt4j.checkpoint.sched;
