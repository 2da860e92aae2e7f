package io.ckpt4j.load;

import io.ckpt4j.CheckpointException;
import io.ckpt4j.layout.dcp.DcpLayout;
import io.ckpt4j.layout.hf.HfDirectory;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * What a path handed to {@link CheckpointLoader} names: one checkpoint file (its format is then
 * sniffed from its bytes), or a layout of several files — a Hugging Face shard index. A
 * directory stands for the checkpoint in it: a torch.distributed.checkpoint (DCP) directory when it
 * holds a {@code .metadata}, else the file {@code from_pretrained} picks
 * ({@link HfDirectory#weightsIn}); a file whose name ends in {@code .json} is a shard index, one
 * named {@code .metadata} the DCP checkpoint of its directory.
 */
record CheckpointSource(Kind kind, Path file) {
  /** How the source is read. */
  enum Kind {
    /** A single file, whatever its format. */
    FILE,
    /** A Hugging Face shard index and the shards it names. */
    HF_INDEX,
    /** A DCP directory's {@code .metadata} and the data files it names. */
    DCP
  }

  static CheckpointSource of(Path path) throws CheckpointException {
    Path metadata = Files.isDirectory(path) ? DcpLayout.metadataIn(path) : path;
    if (metadata != null && DcpLayout.isMetadataName(metadata)) {
      return new CheckpointSource(Kind.DCP, metadata);
    }
    Path file = Files.isDirectory(path) ? HfDirectory.weightsIn(path) : path;
    return new CheckpointSource(HfDirectory.isIndexName(file) ? Kind.HF_INDEX : Kind.FILE, file);
  }
}
