package io.ckpt4j.load;

import io.ckpt4j.value.StorageRef;
import java.util.Collection;
import java.util.List;

/** What a container reader found: the format, the object tree, and its root storages. */
record Loaded(Format format, Object root, List<StorageRef> storages) {
  Loaded(Format format, Object root, Collection<StorageRef> storages) {
    this(format, root, List.copyOf(storages));
  }
}
