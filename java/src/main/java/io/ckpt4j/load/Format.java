package io.ckpt4j.load;

/** The kinds of file ckpt4j tells apart by content, whatever their extension. */
public enum Format {
  /** torch.save's zip format (torch >= 1.6 default; the early torch 1.5 variant too). */
  ZIP("zip"),
  /** torch.save's legacy format: pickles back to back, then raw storages (torch <= 1.5). */
  LEGACY("legacy"),
  /** A TorchScript archive (torch.jit.save): code, not data. */
  TORCHSCRIPT("torchscript"),
  /** A LibTorch C++ archive (torch::save / OutputArchive). */
  LIBTORCH("libtorch"),
  /** A safetensors file. */
  SAFETENSORS("safetensors");

  private final String jsonName;

  Format(String jsonName) {
    this.jsonName = jsonName;
  }

  /** The name {@code ckpt4j inspect --json} prints. */
  public String jsonName() {
    return jsonName;
  }
}
