package io.ckpt4j.statedict;

import io.ckpt4j.value.PyOrderedDict;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A state_dict's {@code _metadata}: an OrderedDict of module prefix ({@code ""} for the root,
 * {@code "layer1.0"}) to {@code {"version": N}}, N being the module class's {@code _version}.
 * Values that are not a dict pass through untouched (the metadata is carried, never trusted).
 */
final class Metadata {
  /** The key of a module's entry that holds its class's {@code _version}. */
  static final String VERSION = "version";

  private Metadata() {}

  /** A new metadata dict (an OrderedDict, as Python's). */
  static PyOrderedDict newMetadata() {
    return new PyOrderedDict();
  }

  /** {@code {"version": version}}. */
  static Map<Object, Object> entry(long version) {
    Map<Object, Object> entry = new LinkedHashMap<>();
    entry.put(VERSION, version);
    return entry;
  }

  /** A shallow copy (entries shared), or {@code metadata} itself when it is no dict. */
  static Object copy(Object metadata) {
    if (!(metadata instanceof Map<?, ?> m)) return metadata;
    PyOrderedDict out = newMetadata();
    out.putAll(m);
    return out;
  }

  /**
   * The version recorded for the module at {@code prefix} (without its trailing dot), or null:
   * Python's {@code metadata.get(prefix[:-1], {}).get("version")}.
   */
  static Long version(Object metadata, String modulePrefix) {
    if (!(metadata instanceof Map<?, ?> m)) return null;
    if (m.get(modulePrefix) instanceof Map<?, ?> entry && entry.get(VERSION) instanceof Long v) {
      return v;
    }
    return null;
  }

  /**
   * What {@code consume_prefix_in_state_dict_if_present} does to {@code _metadata}: entries
   * named {@code prefix} without its dots, or starting with {@code prefix}, lose the prefix
   * ({@code "module"} becomes {@code ""}, replacing the wrapper's own entry in place); the
   * wrapper's {@code ""} entry is otherwise kept.
   */
  static Object stripPrefix(Object metadata, String prefix) {
    if (!(metadata instanceof Map<?, ?> m)) return metadata;
    PyOrderedDict out = newMetadata();
    out.putAll(m);
    String bare = prefix.replace(".", "");
    List<Object> keys = new ArrayList<>(out.keySet());
    for (Object key : keys) {
      if (!(key instanceof String k) || k.isEmpty()) continue;
      if (k.equals(bare) || k.startsWith(prefix)) {
        // Python's key[len(prefix):], which is "" when the key is shorter than the prefix.
        String renamed = k.length() >= prefix.length() ? k.substring(prefix.length()) : "";
        Object value = out.remove(k);
        out.put(renamed, value);
      }
    }
    return out;
  }

  /**
   * {@code metadata} as the state_dict of wrappers holding the model under {@code prefix} would
   * have it: first an entry (nn.Module's version) for each wrapper level, {@code ""} and, for
   * {@code "a.b."}, {@code "a"}; then every entry renamed ({@code ""} becomes {@code "a.b"}).
   */
  static Object addPrefix(Object metadata, String prefix) {
    if (!(metadata instanceof Map<?, ?> m)) return metadata;
    String bare = prefix.endsWith(".") ? prefix.substring(0, prefix.length() - 1) : prefix;
    PyOrderedDict out = newMetadata();
    out.put("", entry(ModuleTree.MODULE_VERSION));
    for (int dot = bare.indexOf('.'); dot >= 0; dot = bare.indexOf('.', dot + 1)) {
      out.put(bare.substring(0, dot), entry(ModuleTree.MODULE_VERSION));
    }
    for (Map.Entry<?, ?> e : m.entrySet()) {
      if (e.getKey() instanceof String k) {
        out.put(k.isEmpty() ? bare : prefix + k, e.getValue());
      } else {
        out.put(e.getKey(), e.getValue());
      }
    }
    return out;
  }
}
