package io.ckpt4j.load;

import io.ckpt4j.value.StorageRef;
import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What a container reader found: the format, the object tree, its root storages, warnings about
 * what was read anyway (one line each), and the constants a format keeps beside its state_dict
 * (a torch.export program's {@code ep.constants}; empty for every other format).
 */
record Loaded(Format format, Object root, List<StorageRef> storages, List<String> warnings,
    Map<String, Object> constants) {
  Loaded {
    storages = List.copyOf(storages);
    warnings = List.copyOf(warnings);
    constants = Collections.unmodifiableMap(new LinkedHashMap<>(constants));
  }

  Loaded(Format format, Object root, List<StorageRef> storages, List<String> warnings) {
    this(format, root, storages, warnings, Map.of());
  }

  Loaded(Format format, Object root, Collection<StorageRef> storages) {
    this(format, root, List.copyOf(storages), List.of());
  }
}
