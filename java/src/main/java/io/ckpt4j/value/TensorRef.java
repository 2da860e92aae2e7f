package io.ckpt4j.value;

import io.ckpt4j.CheckpointException;
import io.ckpt4j.CheckpointException.Kind;
import java.util.Arrays;

/**
 * A tensor as a checkpoint describes it: a storage, an element type, a storage offset, sizes and
 * strides, and the autograd flag — torch's {@code _rebuild_tensor_v2} arguments, checked.
 *
 * <p>This is the leaf that loaded object trees hold. It reads no bytes; {@code TensorMaterializer}
 * turns it into a LibTorch tensor. Construction checks that every element the sizes and strides
 * can address lies inside the storage (LibTorch's {@code from_blob} and {@code set_} do not).
 */
public final class TensorRef {
  /** More dimensions than this is not a tensor any real checkpoint holds (LibTorch allows 64). */
  public static final int MAX_DIMS = 64;

  private final StorageRef storage;
  private final DType dtype;
  private final long storageOffset;
  private final long[] shape;
  private final long[] stride;
  private final long numel;
  private boolean requiresGrad;
  private boolean parameter;
  private Object pythonState;
  private boolean conj;
  private boolean neg;

  private TensorRef(StorageRef storage, DType dtype, long storageOffset, long[] shape,
      long[] stride, long numel, boolean requiresGrad) {
    this.storage = storage;
    this.dtype = dtype;
    this.storageOffset = storageOffset;
    this.shape = shape;
    this.stride = stride;
    this.numel = numel;
    this.requiresGrad = requiresGrad;
  }

  /**
   * Checks and builds a tensor over {@code storage}; {@code storageOffset} is in elements of
   * {@code dtype}, relative to the storage (for a legacy view, to the view).
   */
  public static TensorRef create(StorageRef storage, DType dtype, long storageOffset, long[] shape,
      long[] stride, boolean requiresGrad, String where) throws CheckpointException {
    if (shape.length != stride.length) {
      throw new CheckpointException(Kind.INVALID_TENSOR,
          "tensor in " + where + " has " + shape.length + " sizes but "
          + stride.length + " strides");
    }
    if (shape.length > MAX_DIMS) {
      throw new CheckpointException(Kind.INVALID_TENSOR,
          "tensor in " + where + " has " + shape.length
          + " dimensions, more than the " + MAX_DIMS + " LibTorch supports");
    }
    if (storageOffset < 0) {
      throw new CheckpointException(Kind.INVALID_TENSOR,
          "tensor in " + where + " has a negative storage offset (" + storageOffset + ")");
    }
    long itemSize = dtype.itemSize();
    if (storage.nbytes() % itemSize != 0 || storage.byteOffsetInRoot() % itemSize != 0) {
      throw new CheckpointException(Kind.INVALID_TENSOR,
          "tensor of " + dtype + " in " + where + " lies over storage "
          + storage.key() + " of " + storage.nbytes() + " bytes, not a whole number of "
          + itemSize + "-byte elements");
    }
    long capacity = storage.nbytes() / itemSize;
    try {
      long numel = 1;
      long lastIndex = storageOffset;
      for (int d = 0; d < shape.length; d++) {
        if (shape[d] < 0 || stride[d] < 0) {
          throw new CheckpointException(Kind.INVALID_TENSOR,
              "tensor in " + where + " has size " + shape[d]
              + " and stride " + stride[d] + " at dimension " + d + ": both must be >= 0");
        }
        numel = Math.multiplyExact(numel, shape[d]);
        if (shape[d] > 0) {
          lastIndex = Math.addExact(lastIndex, Math.multiplyExact(shape[d] - 1, stride[d]));
        }
      }
      if (numel > 0 && lastIndex >= capacity) {
        throw new CheckpointException(Kind.INVALID_TENSOR,
            "tensor in " + where + " (sizes " + Arrays.toString(shape)
            + ", strides " + Arrays.toString(stride) + ", offset " + storageOffset
            + ") reaches element " + lastIndex + " of storage " + storage.key() + ", which holds "
            + capacity + " elements of " + dtype);
      }
      // Bytes the elements take, checked once here so nothing downstream can overflow.
      Math.multiplyExact(numel, itemSize);
      return new TensorRef(storage, dtype, storageOffset, shape.clone(), stride.clone(), numel,
          requiresGrad);
    } catch (ArithmeticException e) {
      throw new CheckpointException(Kind.INVALID_TENSOR,
          "tensor in " + where + " has sizes " + Arrays.toString(shape)
          + " and strides " + Arrays.toString(stride) + " whose extent overflows 64 bits");
    }
  }

  public StorageRef storage() {
    return storage;
  }

  public DType dtype() {
    return dtype;
  }

  /** Offset in elements from the start of the ROOT storage (a legacy view's offset included). */
  public long rootStorageOffset() {
    return storageOffset + storage.byteOffsetInRoot() / dtype.itemSize();
  }

  /** Offset in elements, relative to {@link #storage()}. */
  public long storageOffset() {
    return storageOffset;
  }

  public long[] shape() {
    return shape.clone();
  }

  public long[] stride() {
    return stride.clone();
  }

  public int dim() {
    return shape.length;
  }

  public long numel() {
    return numel;
  }

  public long nbytes() {
    return numel * dtype.itemSize();
  }

  /** The location saved in the file ({@code cpu}, {@code cuda:1}). */
  public String savedLocation() {
    return storage.location();
  }

  public boolean requiresGrad() {
    return requiresGrad;
  }

  /** True when the file holds an {@code nn.Parameter} here. */
  public boolean isParameter() {
    return parameter;
  }

  /** Python attributes saved with the tensor ({@code _rebuild_from_type_v2} state), or null. */
  public Object pythonState() {
    return pythonState;
  }

  /** Marks this tensor as an {@code nn.Parameter} (from {@code _rebuild_parameter}). */
  public void markParameter(boolean requiresGrad) {
    this.parameter = true;
    this.requiresGrad = requiresGrad;
  }

  public void setPythonState(Object state) {
    this.pythonState = state;
  }

  /**
   * The lazy conjugate bit torch saves in {@code _rebuild_tensor_v2}'s metadata ({@code
   * {'conj': True}}): the stored elements are the conjugate of the tensor's values.
   */
  public boolean isConj() {
    return conj;
  }

  /** The lazy negation bit ({@code {'neg': True}}): the stored elements are the negated values. */
  public boolean isNeg() {
    return neg;
  }

  public void setConj(boolean conj) {
    this.conj = conj;
  }

  public void setNeg(boolean neg) {
    this.neg = neg;
  }

  /** True when the elements lie in row-major order with no gaps. */
  public boolean isContiguous() {
    long expected = 1;
    for (int d = shape.length - 1; d >= 0; d--) {
      if (shape[d] != 1 && stride[d] != expected) return numel == 0;
      expected *= shape[d];
    }
    return true;
  }

  @Override
  public String toString() {
    return (parameter ? "Parameter" : "Tensor") + "[" + dtype + ", " + Arrays.toString(shape)
        + ", " + storage.location() + "]";
  }
}
