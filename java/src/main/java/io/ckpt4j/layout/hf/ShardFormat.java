package io.ckpt4j.layout.hf;

import java.util.Locale;
import java.util.regex.Pattern;

/**
 * The two kinds of shard {@code save_pretrained} writes, with transformers' file names: {@code
 * safe_serialization=True} (the default) writes safetensors files, {@code False} torch.save
 * (zip format) files.
 */
public enum ShardFormat {
  /** {@code model.safetensors}, {@code model-00001-of-00003.safetensors}: safetensors shards. */
  SAFETENSORS("model", ".safetensors"),
  /** {@code pytorch_model.bin}, {@code pytorch_model-00001-of-00003.bin}: torch.save shards. */
  TORCH("pytorch_model", ".bin");

  /** The index's name is the unsharded weights file's name plus this. */
  static final String INDEX_SUFFIX = ".index.json";

  /** transformers' {@code re.compile(r"(.*?)-\d{5}-of-\d{5}")}, used with fullmatch. */
  private static final Pattern SHARD_SUFFIX = Pattern.compile(".*?-\\d{5}-of-\\d{5}");

  private final String stem;
  private final String extension;

  ShardFormat(String stem, String extension) {
    this.stem = stem;
    this.extension = extension;
  }

  /** transformers' {@code SAFE_WEIGHTS_NAME} / {@code WEIGHTS_NAME}: the file of an unsharded save. */
  public String weightsName() {
    return stem + extension;
  }

  /** {@code .safetensors} / {@code .bin}. */
  String extension() {
    return extension;
  }

  /** transformers' {@code SAFE_WEIGHTS_INDEX_NAME} / {@code WEIGHTS_INDEX_NAME}. */
  public String indexName() {
    return weightsName() + INDEX_SUFFIX;
  }

  /**
   * Shard {@code number} (from 1) of {@code count}, as huggingface_hub's filename pattern makes
   * it: {@code model-00001-of-00003.safetensors} ({@code f"-{idx + 1:05d}-of-{count:05d}"}).
   */
  public String shardName(int number, int count) {
    if (number < 1 || number > count) {
      throw new IllegalArgumentException("shard " + number + " of " + count);
    }
    return String.format(Locale.ROOT, "%s-%05d-of-%05d%s", stem, number, count, extension);
  }

  /**
   * Whether {@code fileName} is a shard of this format that an earlier save may have left:
   * transformers' clean-up test ({@code filename.startswith("model")} and, without the
   * extension, {@code (.*?)-\d{5}-of-\d{5}}).
   */
  public boolean isShardName(String fileName) {
    if (!fileName.startsWith(stem)) return false;
    String bare = fileName.replace(".bin", "").replace(".safetensors", "");
    return SHARD_SUFFIX.matcher(bare).matches();
  }
}
