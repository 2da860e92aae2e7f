package io.ckpt4j.libtorch;

import io.ckpt4j.CheckpointException;
import io.ckpt4j.CheckpointException.Kind;

/**
 * Turns what LibTorch throws into ckpt4j's one-line errors.
 *
 * <p>A {@code c10::Error} reaches Java through JavaCPP as a {@link RuntimeException} whose message
 * is the error text, then {@code "Exception raised from ..."} and a C++ stack; an error inside
 * TorchScript code carries a TorchScript traceback. {@link CheckpointException#firstLine} keeps
 * the line that says what went wrong.
 */
final class LibTorchErrors {
  private LibTorchErrors() {}

  /** A {@link Kind#NATIVE} error saying {@code what} failed, with LibTorch's reason. */
  static CheckpointException wrap(String what, RuntimeException e) {
    return new CheckpointException(Kind.NATIVE, what + ": " + CheckpointException.firstLine(e), e);
  }
}
