package io.ckpt4j;

import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * An object that owns native memory or another resource (tensor references, LibTorch modules, a
 * file, a thread) and frees it deterministically: the one implementation of ckpt4j's ownership
 * rules, which every such class extends.
 *
 * <ul>
 *   <li>{@link #close()} runs the subclass's {@link #releaseResources()} exactly once; every
 *       later close does nothing, so a double close (or a close of something already closed by
 *       its owner) is harmless.
 *   <li>After close, the methods that need what was released call {@link #ensureOpen()}, which
 *       throws {@link IllegalStateException} naming the object: using a closed object is a
 *       programming error, not bad input, so it is never a {@link CheckpointException}.
 *   <li>{@link #isClosed()} says whether close has begun.
 * </ul>
 *
 * <p>Thread safety: {@link #close()} may be called from any thread, at the same time as other
 * closes; exactly one of them runs {@link #releaseResources()}, and it returns once that has
 * finished (the others return at once). Nothing else is made thread-safe here: using an object
 * on one thread while another closes it is a race the caller must prevent, as with any
 * subclass that is not documented as thread-safe.
 *
 * <p>Leaks: an owner that becomes unreachable without having been closed is reported once, as a
 * warning through SLF4J (logger {@code io.ckpt4j.OwnedResource}), by a {@link
 * java.lang.ref.Cleaner} registered when it is made. With {@code -Dckpt4j.leakDetection=true}
 * (or that logger at debug level) the warning also carries the stack that opened the owner;
 * otherwise no stack is captured and the check costs one Cleaner registration per owner. An
 * owner released by another ({@link #own}) is reported through that one only.
 *
 * <p>Why a base class and not a scope (JavaCPP's {@code PointerScope}): ckpt4j's owners outlive
 * the block that makes them (a {@code StateDict} returned to the caller, a model kept for many
 * forwards), own more than JavaCPP pointers (files, threads, Java replicas), and must not be
 * captured by a scope the caller happens to have open on the same thread. An owner frees what it
 * holds; callers scope owners with try-with-resources.
 */
public abstract class OwnedResource implements AutoCloseable {
  /** Owned resources made and not yet closed, in this JVM: a leak check for tests. */
  private static final AtomicLong OPEN = new AtomicLong();

  private final AtomicBoolean closed = new AtomicBoolean();
  private final LeakReport.Registration leakCheck;

  protected OwnedResource() {
    OPEN.incrementAndGet();
    leakCheck = LeakReport.register(this, closed);
  }

  /**
   * Frees what this object owns. Called exactly once, by the first {@link #close()}; if it
   * throws, the object stays closed and the exception reaches that caller.
   */
  protected abstract void releaseResources();

  /**
   * How messages name this object, e.g. {@code "the state_dict"}; by default its class's simple
   * name. Must work after close.
   */
  protected String resourceName() {
    return getClass().getSimpleName();
  }

  /** Releases what this object owns; a second close does nothing. */
  @Override
  public final void close() {
    if (!closed.compareAndSet(false, true)) return;
    OPEN.decrementAndGet();
    leakCheck.cleanable().clean(); // closed: the check deregisters silently
    releaseResources();
  }

  /** Whether {@link #close()} has been called. */
  public final boolean isClosed() {
    return closed.get();
  }

  /**
   * Throws when this object is closed; the methods that use what {@link #releaseResources()}
   * frees call it first.
   *
   * @throws IllegalStateException naming the object, once it is closed
   */
  protected final void ensureOpen() {
    if (closed.get()) {
      throw new IllegalStateException(resourceName() + " is closed: it cannot be used after"
          + " close()");
    }
  }

  /**
   * Names this object in a leak warning (its class name alone otherwise), e.g. {@code "the
   * checkpoint /models/a.pt"}; subclasses call it once their fields are set.
   */
  protected final void describeForLeakReport(String description) {
    leakCheck.report().describe(description);
  }

  /**
   * Marks {@code child} as released by this owner's {@link #releaseResources()}: a leak of both is
   * reported once, as this owner's.
   *
   * @return {@code child}
   */
  protected final <T extends OwnedResource> T own(T child) {
    ((OwnedResource) child).leakCheck.report().ownedByAnother();
    return child;
  }

  /** How many owned resources this JVM has made and not closed yet (tests check for leaks). */
  static long openCount() {
    return OPEN.get();
  }
}
