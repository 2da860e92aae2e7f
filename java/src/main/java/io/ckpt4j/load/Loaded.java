package io.ckpt4j.load;

import io.ckpt4j.value.StorageRef;
import java.util.Collection;
import java.util.List;

/**
 * What a container reader found: the format, the object tree, its root storages, and warnings
 * about what was read anyway (one line each).
 */
record Loaded(Format format, Object root, List<StorageRef> storages, List<String> warnings) {
  Loaded {
    storages = List.copyOf(storages);
    warnings = List.copyOf(warnings);
  }

  Loaded(Format format, Object root, Collection<StorageRef> storages) {
    this(format, root, List.copyOf(storages), List.of());
  }
}
