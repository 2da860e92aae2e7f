package io.ckpt4j.save;

import io.ckpt4j.CheckpointException;
import io.ckpt4j.CheckpointException.Kind;
import io.ckpt4j.tensor.ScalarTypes;
import io.ckpt4j.value.DType;
import io.ckpt4j.value.TensorRef;
import org.bytedeco.pytorch.LongArrayRef;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * One tensor of a tree being saved, in the terms {@code torch.save} writes it: the LibTorch tensor
 * (its storage, offset, sizes and strides), its dtype, {@code requires_grad}, whether it is an
 * {@code nn.Parameter}, the lazy conj/neg bits, the Python attributes saved with it, and — for a
 * {@link TensorRef} — the location its source file recorded.
 *
 * @param savedLocation the source file's location for a {@link TensorRef}; null for a LibTorch
 *     tensor, whose storage's device is its location
 */
record TensorLeaf(
    Tensor tensor,
    DType dtype,
    boolean requiresGrad,
    boolean parameter,
    boolean conj,
    boolean neg,
    Object pythonState,
    String savedLocation) {

  /** A plain LibTorch tensor: {@code requires_grad} as the tensor says. */
  static TensorLeaf of(Tensor tensor, String path) throws CheckpointException {
    DType dtype = requireSaveable(tensor, path);
    return new TensorLeaf(tensor, dtype, tensor.requires_grad(), false, tensor.is_conj(),
        tensor.is_neg(), null, null);
  }

  /** An {@code nn.Parameter} around a LibTorch tensor. */
  static TensorLeaf of(Parameter parameter, String path) throws CheckpointException {
    Tensor tensor = parameter.data();
    DType dtype = requireSaveable(tensor, path);
    return new TensorLeaf(tensor, dtype, parameter.requiresGrad(), true, tensor.is_conj(),
        tensor.is_neg(), null, null);
  }

  /** A tensor of a loaded checkpoint, materialized as {@code tensor}. */
  static TensorLeaf of(TensorRef ref, Tensor tensor, String path) throws CheckpointException {
    requireSaveable(tensor, path);
    return new TensorLeaf(tensor, ref.dtype(), ref.requiresGrad(), ref.isParameter(), ref.isConj(),
        ref.isNeg(), ref.pythonState(), ref.savedLocation());
  }

  /** The tensor's offset into its storage, in elements. */
  long storageOffset() {
    return tensor.storage_offset();
  }

  long[] shape() {
    try (LongArrayRef sizes = tensor.sizes()) {
      return longs(sizes);
    }
  }

  long[] stride() {
    try (LongArrayRef strides = tensor.strides()) {
      return longs(strides);
    }
  }

  private static long[] longs(LongArrayRef ref) {
    long[] out = new long[(int) ref.size()];
    for (int i = 0; i < out.length; i++) out[i] = ref.get(i);
    return out;
  }

  /**
   * The dtype of a tensor {@code torch.save} can write as a strided tensor over a storage; a
   * one-line error naming {@code path} for anything else.
   */
  static DType requireSaveable(Tensor tensor, String path) throws CheckpointException {
    if (tensor.isNull() || !tensor.defined()) {
      throw new CheckpointException(Kind.UNSUPPORTED_VALUE, "cannot save the tensor at " + path
          + ": it is undefined (a default-constructed LibTorch tensor); put a real tensor there");
    }
    if (tensor.is_quantized() || tensor.is_nested() || tensor.layout().intern() != torch.Layout.Strided) {
      throw new CheckpointException(Kind.UNSUPPORTED_VALUE,
          "cannot save the tensor at " + path + ": it is "
          + (tensor.is_quantized() ? "quantized" : tensor.is_nested() ? "nested"
              : "not strided (layout " + tensor.layout() + ")")
          + ", and ckpt4j saves dense strided tensors only; save tensor.to_dense() or"
          + " tensor.dequantize()");
    }
    DType dtype = ScalarTypes.dtype(tensor.scalar_type().intern()).orElseThrow(() ->
        new CheckpointException(Kind.UNSUPPORTED_VALUE,
            "cannot save the tensor at " + path + ": its dtype "
            + tensor.scalar_type() + " is not one ckpt4j writes; convert it, e.g. to float32"));
    if (tensor.is_meta() || !tensor.has_storage()) {
      throw new CheckpointException(Kind.UNSUPPORTED_VALUE,
          "cannot save the tensor at " + path + ": it has no storage with data (a meta or"
          + " functional tensor); save a tensor that holds data in its place");
    }
    return dtype;
  }
}
