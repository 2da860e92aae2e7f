package io.ckpt4j.value;


/** The small torch and builtin values a checkpoint pickle may hold besides tensors. */
public final class TorchValues {
  private TorchValues() {}

  /** A {@code torch.device} value, e.g. {@code cuda:1}. */
  public record TorchDevice(String type, Integer index) {
    @Override
    public String toString() {
      return index == null ? type : type + ":" + index;
    }
  }

  /** A Python {@code complex} value. */
  public record PyComplex(double real, double imag) {}

  /**
   * A storage class named by a pickle ({@code torch.FloatStorage}; {@code dtype} null for
   * {@code torch.storage.UntypedStorage}, whose sizes count bytes).
   */
  public record StorageType(String name, DType dtype) {}

  /** A torch dtype that ckpt4j cannot hold (quantized, sub-byte): refused when a tensor uses it. */
  public record UnsupportedDType(String name) {}

  /** The class {@code torch.Tensor} passed as a value (to {@code _rebuild_from_type_v2}). */
  public enum TensorClass { TENSOR }
}
