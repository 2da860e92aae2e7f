package io.ckpt4j.container.zip;

/** What a zip archive holds, judged from its entry names (see {@link TorchZip#inspect}). */
public enum ZipKind {
  /** {@code torch.save}: {@code <root>/data.pkl} with {@code <root>/data/<key>} storages. */
  TORCH_SAVE,
  /**
   * TorchScript ({@code torch.jit.save}) or a LibTorch C++ archive ({@code torch::save(module)},
   * {@code torch::serialize::OutputArchive}): {@code <root>/code/} or {@code <root>/constants.pkl}.
   */
  TORCHSCRIPT,
  /** The 2019 TorchScript/LibTorch format (torch 1.2 and older): {@code <root>/model.json}. */
  OLD_MODEL_JSON,
  /**
   * A PT2 archive ({@code torch.export.save}, {@code torch._inductor.aoti_compile_and_package}):
   * {@code <root>/archive_format} holding {@code pt2}, models and weights as JSON and raw bytes.
   */
  PT2,
  /** None of the above. */
  UNKNOWN
}
