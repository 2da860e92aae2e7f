package io.ckpt4j.pickle;

import io.ckpt4j.CheckpointException;
import io.ckpt4j.value.PyTuple;

/**
 * Resolves persistent ids (PERSID, BINPERSID) to objects stored outside the pickle. PyTorch uses
 * a tuple {@code ('storage', storage_type, key, location, numel)} (a sixth item for legacy views)
 * whose key names the storage's bytes in the archive.
 */
@FunctionalInterface
public interface PersistentLoader {
  /**
   * The object for {@code pid}: a {@code String} for PERSID, any unpickled value (usually a
   * {@link PyTuple}) for BINPERSID. The pid comes from an untrusted file: check its shape.
   */
  Object load(Object pid) throws CheckpointException;
}
