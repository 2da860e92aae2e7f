package io.ckpt4j.layout.dcp;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * What a DCP {@code .metadata} says, as plain data: Python's {@code Metadata} with its
 * {@code state_dict_metadata} ({@link #entries}, in the file's order), {@code planner_data}
 * ({@link #paths}: flattened key to its path in the nested state_dict, str keys and int list
 * indexes) and {@code storage_data} ({@link #storage}: where each chunk or value lies).
 *
 * @param version {@code Metadata.version} ("1.0.0" since torch 2.4), null in older checkpoints
 */
public record DcpMetadata(Map<String, Entry> entries, Map<String, List<Object>> paths,
    Map<Index, StorageInfo> storage, String version) {
  public DcpMetadata {
    entries = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(entries));
    paths = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(paths));
    storage = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(storage));
  }

  /** One key's storage metadata. */
  public sealed interface Entry permits TensorEntry, BytesEntry {}

  /**
   * {@code TensorStorageMetadata}: the tensor's dtype (Python's name, {@code float32}),
   * {@code requires_grad} as saved, its size and its chunks.
   */
  public record TensorEntry(String dtype, boolean requiresGrad, long[] size, List<Chunk> chunks)
      implements Entry {
    public TensorEntry {
      size = size.clone();
      chunks = List.copyOf(chunks);
    }

    @Override
    public long[] size() {
      return size.clone();
    }
  }

  /** {@code BytesStorageMetadata}: a non-tensor value, torch.save'd into a data file. */
  public record BytesEntry() implements Entry {}

  /** {@code ChunkStorageMetadata}: one chunk's box in the tensor. */
  public record Chunk(long[] offsets, long[] sizes) {
    public Chunk {
      offsets = offsets.clone();
      sizes = sizes.clone();
    }

    @Override
    public long[] offsets() {
      return offsets.clone();
    }

    @Override
    public long[] sizes() {
      return sizes.clone();
    }
  }

  /**
   * {@code MetadataIndex}: a key, and for a tensor chunk its offsets in the tensor ({@code null}
   * for a bytes value).
   */
  public record Index(String fqn, List<Long> offset) {
    public Index {
      Objects.requireNonNull(fqn, "fqn");
      offset = offset == null ? null : List.copyOf(offset);
    }

    /** The index of the chunk at {@code offsets} of tensor {@code fqn}. */
    public static Index ofChunk(String fqn, long[] offsets) {
      return new Index(fqn, Arrays.stream(offsets).boxed().toList());
    }

    /** The index of bytes value {@code fqn}. */
    public static Index ofBytes(String fqn) {
      return new Index(fqn, null);
    }
  }

  /** {@code _StorageInfo}: bytes {@code [offset, offset + length)} of a data file. */
  public record StorageInfo(String relativePath, long offset, long length) {}
}
