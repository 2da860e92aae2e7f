package io.ckpt4j.models;

import io.ckpt4j.OwnedResource;
import java.util.ArrayDeque;
import java.util.Deque;
import org.bytedeco.javacpp.Pointer;

/**
 * The Java handles one model holds on its LibTorch modules. Each handle is a reference to a
 * module (a {@code std::shared_ptr} inside JavaCPP); the model owns exactly one reference
 * through each, and {@link #close()} drops them all, last acquired first, which frees the module
 * tree once nothing else (a wrapper that registered it) refers to it. A second close does
 * nothing.
 */
final class NativeHandles extends OwnedResource {
  private final Deque<Pointer> handles = new ArrayDeque<>();

  /** Takes over {@code handle}: the reference it holds is released by {@link #close()}. */
  <P extends Pointer> P own(P handle) {
    ensureOpen();
    handles.push(handle);
    return handle;
  }

  @Override
  protected void releaseResources() {
    while (!handles.isEmpty()) handles.pop().close();
  }
}
