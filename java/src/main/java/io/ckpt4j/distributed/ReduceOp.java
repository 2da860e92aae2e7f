package io.ckpt4j.distributed;

import org.bytedeco.pytorch.ReduceOp.RedOpType;

/**
 * Python's {@code torch.distributed.ReduceOp}: how {@link ProcessGroup#allReduce} combines the
 * ranks' tensors, element by element.
 *
 * <p>Gloo has no native average: {@link #AVG} is a {@link #SUM} followed by a division by the
 * world size, for floating-point tensors only (Python's {@code all_reduce(op=AVG)} refuses Gloo
 * outright; DDP averages its gradients the same way, sum then divide).
 *
 * <p>Thread safety: an enum, immutable.
 */
public enum ReduceOp {
  /** {@code ReduceOp.SUM}. */
  SUM(RedOpType.SUM),
  /** {@code ReduceOp.AVG}: sum, then divided by the world size (floating point only). */
  AVG(RedOpType.SUM),
  /** {@code ReduceOp.PRODUCT}. */
  PRODUCT(RedOpType.PRODUCT),
  /** {@code ReduceOp.MIN}. */
  MIN(RedOpType.MIN),
  /** {@code ReduceOp.MAX}. */
  MAX(RedOpType.MAX);

  private final RedOpType native_;

  ReduceOp(RedOpType nativeOp) {
    this.native_ = nativeOp;
  }

  /** The c10d reduction Gloo runs for this op. */
  RedOpType nativeOp() {
    return native_;
  }
}
