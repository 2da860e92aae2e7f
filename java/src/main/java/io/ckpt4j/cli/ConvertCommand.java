package io.ckpt4j.cli;

import io.ckpt4j.CheckpointException;
import io.ckpt4j.load.CheckpointLoader;
import io.ckpt4j.load.Format;
import io.ckpt4j.load.LoadOptions;
import io.ckpt4j.load.LoadedCheckpoint;
import io.ckpt4j.pickle.PyOrderedDict;
import io.ckpt4j.save.SaveOptions;
import io.ckpt4j.save.TorchSaver;
import io.ckpt4j.tensor.MapLocation;
import io.ckpt4j.tensor.TensorRef;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/**
 * {@code ckpt4j convert [OPTIONS] IN OUT}: reads any checkpoint ckpt4j reads (zip, legacy,
 * safetensors) and writes it in PyTorch's zip format, which {@code torch.load(OUT)} reads with
 * {@code weights_only=True} and {@code mmap=True}. Tensors are streamed from IN (mapped, never
 * read whole) into OUT; OUT is replaced atomically.
 *
 * <p>{@code --strip-prefix}/{@code --add-prefix} rename the keys of the state dict: the root's
 * entry {@code state_dict}, {@code model_state_dict}, {@code model} or {@code module} (the first
 * of these that is a dict holding tensors), else the root itself if it holds tensors. Stripping
 * is {@code torch.nn.modules.utils.consume_prefix_in_state_dict_if_present}, {@code _metadata}
 * included; adding is its inverse (what wrapping in DataParallel does). A rename that would make
 * two keys one is refused.
 */
@Command(name = "convert", mixinStandardHelpOptions = true,
    description = "Convert a checkpoint (zip, legacy, safetensors) to PyTorch's zip format.")
final class ConvertCommand implements Callable<Integer> {
  /** Entries of a training checkpoint that hold its model's state dict, in order of preference. */
  static final List<String> STATE_DICT_KEYS =
      List.of("state_dict", "model_state_dict", "model", "module");

  @Parameters(index = "0", paramLabel = "IN", description = "the checkpoint to read")
  Path in;

  @Parameters(index = "1", paramLabel = "OUT", description = "the .pt file to write")
  Path out;

  @Option(names = "--map-location", paramLabel = "DEV",
      description = "record every storage as saved on DEV (cpu, cuda:0) or remap (cuda:1=cuda:0,"
          + "cuda:2=cpu), so Python needs no map_location; default: as IN recorded them")
  String mapLocation;

  @Option(names = "--strip-prefix", paramLabel = "P",
      description = "remove P from the state dict's keys that start with it (e.g. module.)")
  String stripPrefix;

  @Option(names = "--add-prefix", paramLabel = "P",
      description = "put P before every state dict key (after --strip-prefix)")
  String addPrefix;

  @Option(names = "--allow-global", paramLabel = "MODULE.NAME",
      description = "read this Python class as an inert object (it is written back as it was)")
  List<String> allowGlobals = List.of();

  @Option(names = "--inert-objects",
      description = "read every unknown Python class as an inert object (nothing is run)")
  boolean inertObjects;

  @Spec CommandSpec spec;

  @Override
  public Integer call() throws CheckpointException {
    Format format = CheckpointLoader.detect(in);
    if (format == Format.TORCHSCRIPT || format == Format.LIBTORCH) {
      throw new CheckpointException("cannot convert " + in + ": "
          + CheckpointLoader.archiveNote(in));
    }
    SaveOptions save = SaveOptions.defaults();
    if (mapLocation != null) {
      try {
        save = save.mapLocation(MapLocation.parse(mapLocation));
      } catch (IllegalArgumentException e) {
        throw new CheckpointException("--map-location " + mapLocation + ": " + e.getMessage());
      }
    }
    // Storages are mapped, not read, and stay on the CPU: OUT's locations come from IN's file.
    LoadOptions load = LoadOptions.defaults().mmap(true).mapLocation(MapLocation.to("cpu"))
        .allowGlobals(allowGlobals.toArray(String[]::new)).inertObjects(inertObjects);
    try (LoadedCheckpoint checkpoint = CheckpointLoader.load(in, load)) {
      Object root = checkpoint.root();
      if (stripPrefix != null || addPrefix != null) root = renameKeys(root);
      TorchSaver.save(out, root, checkpoint, save);
    }
    PrintWriter stdout = spec.commandLine().getOut();
    stdout.printf("%s -> %s%n", in, out);
    stdout.flush();
    return 0;
  }

  private Object renameKeys(Object root) throws CheckpointException {
    Map<Object, Object> parent = null;
    Object key = null;
    Map<?, ?> stateDict = null;
    if (root instanceof Map<?, ?> rootMap) {
      for (String k : STATE_DICT_KEYS) {
        if (rootMap.get(k) instanceof Map<?, ?> m && holdsTensor(m)) {
          @SuppressWarnings("unchecked")
          Map<Object, Object> p = (Map<Object, Object>) rootMap;
          parent = p;
          key = k;
          stateDict = m;
          break;
        }
      }
      if (stateDict == null && holdsTensor(rootMap)) stateDict = rootMap;
    }
    if (stateDict == null) {
      throw new CheckpointException("cannot rename state dict keys of " + in + ": found no state"
          + " dict (the root, or its " + String.join("/", STATE_DICT_KEYS) + " entry, must be a"
          + " dict holding tensors)");
    }
    Map<?, ?> renamed = stateDict;
    if (stripPrefix != null) renamed = KeyPrefix.strip(renamed, stripPrefix);
    if (addPrefix != null) renamed = KeyPrefix.add(renamed, addPrefix);
    if (parent == null) return renamed;
    parent.put(key, renamed);
    return root;
  }

  private static boolean holdsTensor(Map<?, ?> map) {
    for (Object v : map.values()) {
      if (v instanceof TensorRef) return true;
    }
    return false;
  }

  /** The key renames of a state dict, as PyTorch does them. */
  static final class KeyPrefix {
    private static final String METADATA = "_metadata";

    private KeyPrefix() {}

    /**
     * {@code consume_prefix_in_state_dict_if_present}: keys starting with {@code prefix} lose it
     * (each renamed key moves to the end, as Python's pop-and-insert does); in {@code _metadata},
     * {@code "module"} becomes {@code ""} and {@code "module.x"} becomes {@code "x"}.
     */
    static Map<Object, Object> strip(Map<?, ?> stateDict, String prefix)
        throws CheckpointException {
      Map<Object, Object> keys = new LinkedHashMap<>(stateDict);
      for (Object k : stateDict.keySet()) {
        if (k instanceof String s && s.startsWith(prefix)) {
          String renamed = s.substring(prefix.length());
          if (keys.containsKey(renamed)) throw collision(s, renamed);
          keys.put(renamed, keys.remove(s));
        }
      }
      Map<Object, Object> out = like(stateDict, keys);
      if (out instanceof PyOrderedDict dict && dict.attributes().get(METADATA) instanceof Map<?, ?> m) {
        Map<Object, Object> metadata = copyLike(m);
        String bare = prefix.replace(".", "");
        for (Object k : m.keySet()) {
          if (k instanceof String s && !s.isEmpty() && (s.equals(bare) || s.startsWith(prefix))) {
            String renamed = s.length() >= prefix.length() ? s.substring(prefix.length()) : "";
            metadata.put(renamed, metadata.remove(s));
          }
        }
        dict.setAttribute(METADATA, metadata);
      }
      return out;
    }

    /**
     * The inverse: every key gets {@code prefix} in front; in {@code _metadata}, {@code ""}
     * becomes the prefix without its trailing dots and {@code "x"} becomes {@code prefix + "x"}.
     */
    static Map<Object, Object> add(Map<?, ?> stateDict, String prefix) throws CheckpointException {
      Map<Object, Object> keys = new LinkedHashMap<>();
      for (Map.Entry<?, ?> e : stateDict.entrySet()) {
        Object k = e.getKey() instanceof String s ? prefix + s : e.getKey();
        if (keys.containsKey(k)) throw collision(String.valueOf(e.getKey()), String.valueOf(k));
        keys.put(k, e.getValue());
      }
      Map<Object, Object> out = like(stateDict, keys);
      if (out instanceof PyOrderedDict dict && dict.attributes().get(METADATA) instanceof Map<?, ?> m) {
        Map<Object, Object> metadata = copyLike(m);
        metadata.clear();
        String bare = prefix.replaceAll("\\.+$", "");
        for (Map.Entry<?, ?> e : m.entrySet()) {
          Object k = e.getKey() instanceof String s ? (s.isEmpty() ? bare : prefix + s) : e.getKey();
          metadata.put(k, e.getValue());
        }
        dict.setAttribute(METADATA, metadata);
      }
      return out;
    }

    /** A dict of the same kind as {@code original} (attributes kept) with {@code entries}. */
    private static Map<Object, Object> like(Map<?, ?> original, Map<Object, Object> entries) {
      if (!(original instanceof PyOrderedDict dict)) return entries;
      PyOrderedDict out = new PyOrderedDict();
      out.putAll(entries);
      for (Map.Entry<String, Object> a : dict.attributes().entrySet()) {
        out.setAttribute(a.getKey(), a.getValue());
      }
      return out;
    }

    private static Map<Object, Object> copyLike(Map<?, ?> m) {
      Map<Object, Object> copy = m instanceof PyOrderedDict ? new PyOrderedDict() : new LinkedHashMap<>();
      copy.putAll(m);
      return copy;
    }

    private static CheckpointException collision(String key, String renamed) {
      return new CheckpointException("renaming state dict key '" + key + "' to '" + renamed
          + "' would overwrite the key '" + renamed + "' already there; choose another prefix");
    }
  }
}
