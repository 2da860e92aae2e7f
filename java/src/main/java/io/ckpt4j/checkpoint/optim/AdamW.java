package io.ckpt4j.checkpoint.optim;

import java.util.List;
import java.util.Map;
import org.bytedeco.pytorch.TensorVector;

/**
 * {@code torch.optim.AdamW}: {@link Adam} with decoupled weight decay ({@code p.mul_(1 - lr *
 * weight_decay)} before the moments), Python 2.13's subclass of Adam with
 * {@code decoupled_weight_decay=True} and {@code weight_decay=1e-2} by default. Its state dict is
 * Adam's; loading one forces {@code decoupled_weight_decay} to true, as Python's
 * {@code AdamW.__setstate__} does.
 */
public class AdamW extends Adam {
  /** The default of {@code weight_decay} for AdamW. */
  public static final double DEFAULT_WEIGHT_DECAY = 1e-2;

  /**
   * {@code AdamW(params, lr=..., ...)} over one group; start from {@link #options()} (AdamW's
   * defaults), or {@code Adam.options()} for Adam's {@code weight_decay=0}.
   */
  public AdamW(TensorVector params, Adam.Options options) {
    this(List.of(ParamGroup.of(params)), options);
  }

  /** {@code AdamW([{"params": ..., ...}, ...], lr=..., ...)}. */
  public AdamW(List<ParamGroup> groups, Adam.Options options) {
    super("AdamW", groups, options.decoupled());
  }

  /**
   * Python's defaults: {@code lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2,
   * amsgrad=False}; {@code decoupled_weight_decay=True}.
   */
  public static Adam.Options options() {
    return new Adam.Options(DEFAULT_WEIGHT_DECAY, true);
  }

  @Override
  protected void completeOptions(Map<String, Object> options) {
    super.completeOptions(options);
    options.put("decoupled_weight_decay", true);
  }
}
