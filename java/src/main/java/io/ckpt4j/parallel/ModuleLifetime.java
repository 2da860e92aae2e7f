package io.ckpt4j.parallel;

import io.ckpt4j.OwnedResource;
import java.util.Objects;

/**
 * The ownership of a wrapper that is a LibTorch {@code Module} subclass (DataParallel,
 * DistributedDataParallel) and so cannot extend {@link OwnedResource}: the wrapper holds one of
 * these, forwards its {@code close()} and {@code isClosed()} here, and calls {@link #check()}
 * where it needs what close releases.
 *
 * <p>Thread safety: as {@link OwnedResource} (close once, from any thread).
 */
public final class ModuleLifetime extends OwnedResource {
  private final String name;
  private final Runnable release;

  /**
   * @param name how messages name the wrapper, e.g. {@code "this DataParallel"}
   * @param release frees what the wrapper owns (its own module included); run once, by the
   *     first close
   */
  public ModuleLifetime(String name, Runnable release) {
    this.name = Objects.requireNonNull(name, "name");
    this.release = Objects.requireNonNull(release, "release");
  }

  @Override
  protected void releaseResources() {
    release.run();
  }

  @Override
  protected String resourceName() {
    return name;
  }

  /** Throws {@link IllegalStateException} naming the wrapper once it is closed. */
  public void check() {
    ensureOpen();
  }
}
