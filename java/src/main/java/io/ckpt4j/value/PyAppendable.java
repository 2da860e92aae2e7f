package io.ckpt4j.value;

import io.ckpt4j.CheckpointException;

/**
 * An object that accepts APPEND and APPENDS besides lists and {@link PyObject}s, as a Python
 * object with an {@code append} method would (e.g. a resolver's own list-like result).
 */
@FunctionalInterface
public interface PyAppendable {
  /** Appends {@code item}, a value from an untrusted file: check its type. */
  void append(Object item) throws CheckpointException;
}
