package io.ckpt4j.layout.hf;

import io.ckpt4j.CheckpointException;
import io.ckpt4j.CheckpointException.Kind;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Which file of a model directory holds its weights, as {@code from_pretrained} picks it: the
 * first of {@code model.safetensors}, {@code model.safetensors.index.json},
 * {@code pytorch_model.bin}, {@code pytorch_model.bin.index.json} that exists; else the one
 * {@code *.safetensors.index.json} or {@code *.bin.index.json} the directory holds (diffusers'
 * {@code diffusion_pytorch_model.safetensors.index.json}, a variant's
 * {@code model.fp16.safetensors.index.json}).
 */
public final class HfDirectory {
  /** An index file is recognized by its name: a JSON file, whatever it is called. */
  private static final String JSON_SUFFIX = ".json";

  private HfDirectory() {}

  /** Whether {@code file} (not a directory) is to be read as a shard index: its name ends in .json. */
  public static boolean isIndexName(Path file) {
    Path name = file.getFileName();
    return name != null && name.toString().endsWith(JSON_SUFFIX);
  }

  /** The weights file or shard index to read in {@code dir}. */
  public static Path weightsIn(Path dir) throws CheckpointException {
    for (ShardFormat format : ShardFormat.values()) {
      for (String name : List.of(format.weightsName(), format.indexName())) {
        Path candidate = dir.resolve(name);
        if (Files.isRegularFile(candidate)) return candidate;
      }
    }
    List<Path> indexes = new ArrayList<>();
    try (DirectoryStream<Path> entries = Files.newDirectoryStream(dir)) {
      for (Path entry : entries) {
        String name = entry.getFileName().toString();
        boolean index = false;
        for (ShardFormat format : ShardFormat.values()) {
          index |= name.endsWith(format.extension() + ShardFormat.INDEX_SUFFIX);
        }
        if (index && Files.isRegularFile(entry)) indexes.add(entry);
      }
    } catch (IOException e) {
      throw new CheckpointException(Kind.IO, "cannot list directory " + dir + ": " + e, e);
    }
    if (indexes.size() == 1) return indexes.get(0);
    if (indexes.isEmpty()) {
      throw new CheckpointException(Kind.NOT_A_CHECKPOINT,
          dir + " is a directory without a checkpoint ckpt4j knows: no "
          + ShardFormat.SAFETENSORS.weightsName() + ", " + ShardFormat.SAFETENSORS.indexName()
          + ", " + ShardFormat.TORCH.weightsName() + " or " + ShardFormat.TORCH.indexName()
          + " (save_pretrained's names); name the checkpoint file itself");
    }
    List<String> names = new ArrayList<>();
    for (Path p : indexes) names.add(p.getFileName().toString());
    names.sort(PythonJson::compareCodePoints);
    throw new CheckpointException(Kind.UNSUPPORTED_FORMAT,
        dir + " holds several shard indexes " + names + ": name the"
        + " one to read");
  }
}
