package io.ckpt4j.checkpoint.optim;

import java.util.List;
import java.util.Map;

/**
 * What an LR scheduler sees of an optimizer, as in Python: its {@code param_groups} (whose
 * {@code lr}, {@code initial_lr}, {@code momentum}, {@code betas}, ... it reads and writes) and its
 * {@code defaults} (OneCycleLR cycles {@code betas[0]} when they have {@code betas}, else
 * {@code momentum}). Implemented by the optimizers ({@link Optimizer}).
 */
public interface ParamGroups {
  /** {@code optimizer.param_groups}. */
  List<ParamGroup> paramGroups();

  /** {@code optimizer.defaults}. */
  Map<String, Object> defaults();
}
