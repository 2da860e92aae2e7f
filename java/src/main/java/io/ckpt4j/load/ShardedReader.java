package io.ckpt4j.load;

import io.ckpt4j.CheckpointException;
import io.ckpt4j.CheckpointException.Kind;
import io.ckpt4j.layout.hf.ShardIndex;
import io.ckpt4j.value.PythonTypes;
import io.ckpt4j.value.StorageRef;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A Hugging Face sharded checkpoint as one state_dict: what transformers' loading loop gives,
 * {@code for f in sorted(set(weight_map.values())): state_dict.update(load(f))} — shards in that
 * order, each shard's keys in its own order — with each shard read by the reader of its format
 * (safetensors, torch.save zip or legacy) and its storages bound to byte ranges of its own file,
 * so the tensors are read (or mapped, lazily) exactly as a single file's are.
 *
 * <p>Opening reads the index and each shard's header (a safetensors header; a zip's central
 * directory and pickle; a legacy file's pickles), never tensor bytes. Checked, each a one-line
 * error: every shard file exists; no key is in two shards; every key of the index is in the
 * shard the index names. Keys a shard holds that the index does not name are loaded, as
 * transformers loads them, and reported in {@link Loaded#warnings()}.
 */
final class ShardedReader {
  /** Keys named in a message, at most. */
  private static final int SHOWN_KEYS = 3;

  private ShardedReader() {}

  static Loaded read(Path indexFile, LoadOptions options) throws CheckpointException {
    ShardIndex index = ShardIndex.read(indexFile);
    List<String> shards = index.shardFiles();
    for (String shard : shards) requireShard(index, shard);
    Map<Object, Object> stateDict = new LinkedHashMap<>();
    Map<String, String> shardOf = new HashMap<>();
    List<StorageRef> storages = new ArrayList<>();
    List<String> warnings = new ArrayList<>();
    for (String shard : shards) {
      Path file = index.resolve(shard);
      Loaded part = CheckpointLoader.readFile(file, options);
      if (!(part.root() instanceof Map<?, ?> entries)) {
        throw new CheckpointException(Kind.INVALID_VALUE,
            "shard " + file + " of " + indexFile + " holds a "
            + PythonTypes.name(part.root()) + ", not a state_dict");
      }
      List<String> unnamed = new ArrayList<>();
      for (Map.Entry<?, ?> e : entries.entrySet()) {
        if (!(e.getKey() instanceof String key)) {
          throw new CheckpointException(Kind.INVALID_VALUE,
              "shard " + file + " of " + indexFile + " has the key "
              + e.getKey() + " (" + PythonTypes.name(e.getKey()) + "), not a"
              + " str: not a state_dict");
        }
        String earlier = shardOf.putIfAbsent(key, shard);
        if (earlier != null) {
          throw new CheckpointException(Kind.MALFORMED_CONTAINER,
              "key '" + key + "' is in two shards of " + indexFile
              + ": " + earlier + " and " + shard + " (the index names "
              + index.weightMap().getOrDefault(key, "neither") + "); remove it from one of them");
        }
        if (!index.weightMap().containsKey(key)) unnamed.add(key);
        stateDict.put(key, e.getValue());
      }
      storages.addAll(part.storages());
      if (!unnamed.isEmpty()) {
        warnings.add("shard " + shard + " holds " + unnamed.size() + " key"
            + (unnamed.size() == 1 ? "" : "s") + " the index " + indexFile.getFileName()
            + " does not name (" + shown(unnamed) + "); loaded anyway, as transformers does");
      }
    }
    for (Map.Entry<String, String> e : index.weightMap().entrySet()) {
      String found = shardOf.get(e.getKey());
      if (!e.getValue().equals(found)) {
        throw new CheckpointException(Kind.MALFORMED_CONTAINER,
            "index " + indexFile + " puts key '" + e.getKey()
            + "' in shard " + e.getValue() + ", which does not hold it"
            + (found == null ? "" : " (it is in " + found + ")")
            + ": the index and its shards do not match; save the checkpoint again");
      }
    }
    return new Loaded(Format.HF_SHARDED, stateDict, storages, warnings);
  }

  private static void requireShard(ShardIndex index, String shard) throws CheckpointException {
    Path file = index.resolve(shard);
    if (Files.isRegularFile(file)) return;
    List<String> keys = new ArrayList<>();
    for (Map.Entry<String, String> e : index.weightMap().entrySet()) {
      if (e.getValue().equals(shard)) keys.add(e.getKey());
    }
    throw new CheckpointException(Kind.NOT_FOUND,
        "shard " + shard + " of " + index.file() + " is missing"
        + (Files.exists(file) ? " (not a regular file)" : "") + ": the index puts "
        + keys.size() + " key" + (keys.size() == 1 ? "" : "s") + " there (" + shown(keys)
        + "); download or copy every shard beside the index");
  }

  private static String shown(List<String> keys) {
    List<String> quoted = new ArrayList<>();
    for (String k : keys.subList(0, Math.min(SHOWN_KEYS, keys.size()))) quoted.add("'" + k + "'");
    return String.join(", ", quoted) + (keys.size() > SHOWN_KEYS ? ", ..." : "");
  }
}
