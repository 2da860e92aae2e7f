package io.ckpt4j.value;

import io.ckpt4j.CheckpointException;

/**
 * An object that accepts BUILD, Python's {@code obj.__setstate__(state)} or
 * {@code obj.__dict__.update(state)}. The unpickler refuses BUILD on anything that is neither
 * this nor a {@link PyObject}.
 */
@FunctionalInterface
public interface PyBuildable {
  /** Applies {@code state}, a value from an untrusted file: check its type. */
  void build(Object state) throws CheckpointException;
}
