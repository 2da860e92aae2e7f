package io.ckpt4j.layout.hf;

import io.ckpt4j.CheckpointException;
import io.ckpt4j.CheckpointException.Kind;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * A state_dict split into shards exactly as {@code save_pretrained} splits it (huggingface_hub's
 * {@code split_torch_state_dict_into_shards}): entries in order fill the current shard until the
 * next one would take it past the maximum, which starts a new shard; an entry larger than the
 * maximum gets a shard of its own (placed before the one being filled); entries over a storage
 * already seen take no room and join the shard of that storage's first entry, at its end. Sizes
 * are whole storages ({@code tensor.untyped_storage().nbytes()}), and {@code total_size} is their
 * sum, each storage once. One shard is written unsharded ({@code model.safetensors}, no index);
 * several get transformers' names ({@code model-00001-of-00003.safetensors}) and an index.
 */
public final class ShardPlan {
  /**
   * One state_dict entry as the split sees it.
   *
   * @param storageId equal for entries over one storage (huggingface_hub's
   *     {@code (device, data_ptr, nbytes)}), never null
   * @param storageBytes the whole storage's size in bytes
   */
  public record Item(String key, Object storageId, long storageBytes) {
    public Item {
      Objects.requireNonNull(key, "key");
      Objects.requireNonNull(storageId, "storageId");
    }
  }

  /** One file to write: its name and the keys it holds, in the order it holds them. */
  public record Shard(String fileName, List<String> keys) {
    public Shard {
      keys = List.copyOf(keys);
    }
  }

  private final ShardFormat format;
  private final List<Shard> shards;
  private final long totalSize;

  private ShardPlan(ShardFormat format, List<Shard> shards, long totalSize) {
    this.format = format;
    this.shards = List.copyOf(shards);
    this.totalSize = totalSize;
  }

  /** Splits {@code items} (the state_dict, in order) into shards of at most {@code maxShardBytes}. */
  public static ShardPlan split(List<Item> items, long maxShardBytes, ShardFormat format)
      throws CheckpointException {
    if (items.isEmpty()) {
      throw new CheckpointException(Kind.INVALID_VALUE,
          "nothing to save: the state_dict is empty (save_pretrained"
          + " would write no weights file at all)");
    }
    Map<Object, List<String>> keysOfStorage = new LinkedHashMap<>();
    List<List<String>> filled = new ArrayList<>();
    List<String> current = new ArrayList<>();
    long currentSize = 0;
    long total = 0;
    for (Item item : items) {
      List<String> sharing = keysOfStorage.get(item.storageId());
      if (sharing != null) {
        sharing.add(item.key());
        continue;
      }
      keysOfStorage.put(item.storageId(), new ArrayList<>(List.of(item.key())));
      long size = item.storageBytes();
      total = Math.addExact(total, size);
      if (size > maxShardBytes) {
        filled.add(new ArrayList<>(List.of(item.key())));
        continue;
      }
      if (size > maxShardBytes - currentSize) { // currentSize + size > max, without overflow
        filled.add(current);
        current = new ArrayList<>();
        currentSize = 0;
      }
      current.add(item.key());
      currentSize += size;
    }
    if (!current.isEmpty()) filled.add(current);
    List<Set<String>> members = new ArrayList<>();
    for (List<String> shard : filled) members.add(new HashSet<>(shard));
    for (List<String> keys : keysOfStorage.values()) {
      for (int s = 0; s < filled.size(); s++) {
        if (!members.get(s).contains(keys.get(0))) continue;
        for (String key : keys) {
          if (members.get(s).add(key)) filled.get(s).add(key);
        }
        break;
      }
    }
    List<Shard> shards = new ArrayList<>();
    if (filled.size() == 1) {
      List<String> all = new ArrayList<>();
      for (Item item : items) all.add(item.key());
      shards.add(new Shard(format.weightsName(), all));
    } else {
      for (int s = 0; s < filled.size(); s++) {
        shards.add(new Shard(format.shardName(s + 1, filled.size()), filled.get(s)));
      }
    }
    return new ShardPlan(format, shards, total);
  }

  public ShardFormat format() {
    return format;
  }

  /** The files to write, in order. */
  public List<Shard> shards() {
    return shards;
  }

  /** Whether there are several shards (and so an index). */
  public boolean sharded() {
    return shards.size() > 1;
  }

  /** {@code metadata.total_size}: the bytes of every storage, each once. */
  public long totalSize() {
    return totalSize;
  }

  /** The index's file name ({@code model.safetensors.index.json}). */
  public String indexName() {
    return format.indexName();
  }

  /** {@code weight_map}: key → shard file name, shard by shard. */
  public Map<String, String> weightMap() {
    Map<String, String> map = new LinkedHashMap<>();
    for (Shard shard : shards) {
      for (String key : shard.keys()) map.put(key, shard.fileName());
    }
    return Collections.unmodifiableMap(map);
  }
}
