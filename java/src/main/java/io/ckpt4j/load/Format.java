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
  SAFETENSORS("safetensors"),
  /**
   * A Hugging Face sharded checkpoint: a shard index ({@code model.safetensors.index.json},
   * {@code pytorch_model.bin.index.json}) and the shards it names, or the directory holding them.
   */
  HF_SHARDED("hf-sharded"),
  /**
   * A torch.export program archive ({@code torch.export.save}, {@code .pt2}): exported programs
   * with their weights and constants as raw bytes. Its weights are read; the program is not run.
   */
  PT2("pt2"),
  /**
   * An AOTInductor package ({@code torch._inductor.aoti_compile_and_package}, also {@code .pt2}):
   * compiled native code with its weights, and no exported program. Recognized, not read.
   */
  AOTINDUCTOR("aotinductor"),
  /**
   * A torch.distributed.checkpoint directory ({@code .metadata} and {@code __0_0.distcp} ...), as
   * {@code dcp.save} writes it, or its {@code .metadata} file.
   */
  DCP("dcp");

  private final String jsonName;

  Format(String jsonName) {
    this.jsonName = jsonName;
  }

  /** The name {@code ckpt4j inspect --json} prints. */
  public String jsonName() {
    return jsonName;
  }
}
