package io.ckpt4j.nn;

import org.bytedeco.pytorch.Module;
import org.bytedeco.pytorch.Tensor;

/**
 * A model built in Java from LibTorch layers: its registered module tree (the parameters and
 * buffers a {@code state_dict} names) and its forward pass.
 *
 * <p>This is what {@code DataParallel} replicates and runs, and what state dicts load into. The
 * names under {@link #module()} are the names Python gives the same architecture, so a state dict
 * saved by Python loads strictly.
 */
public interface TorchModel {
  /** The module tree whose parameters and buffers this model computes with. */
  Module module();

  /** The forward pass, on the device the module's parameters are on. */
  Tensor forward(Tensor input);
}
