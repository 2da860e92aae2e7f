package io.ckpt4j;

import java.lang.ref.Cleaner;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The leak check of one {@link OwnedResource}: registered with a {@link Cleaner} when the owner
 * is made, it logs one warning through SLF4J if the owner becomes unreachable without having been
 * closed: what it owned was not released deterministically, as ckpt4j's ownership rule asks.
 *
 * <p>Debug mode ({@code -Dckpt4j.leakDetection=true}, or the {@code io.ckpt4j.OwnedResource}
 * logger at debug level) also captures, when each owner is made, the stack that made it, and the
 * warning carries it as "opened here". Otherwise nothing is captured: the cost of an owner is its
 * Cleaner registration (and its deregistration at close), and the warning says how to see where
 * the owner was opened.
 *
 * <p>The action never refers to the owner (a Cleaner action that did would keep it reachable): it
 * holds the owner's closed flag, its class name, an optional description and the optional stack.
 */
final class LeakReport implements Runnable {
  /** The system property that turns on capturing where each owner was opened. */
  static final String DEBUG_PROPERTY = "ckpt4j.leakDetection";

  /** One daemon thread for every owner's check. */
  private static final Cleaner CLEANER = Cleaner.create();
  private static final Logger LOG = LoggerFactory.getLogger(OwnedResource.class);

  private final AtomicBoolean closed;
  private final String type;
  private final Throwable openedAt;
  private volatile String description;
  private volatile boolean ownedByAnother;

  private LeakReport(AtomicBoolean closed, String type, Throwable openedAt) {
    this.closed = closed;
    this.type = type;
    this.openedAt = openedAt;
  }

  /** Registers the check of {@code owner}, whose close sets {@code closed}. */
  static Registration register(OwnedResource owner, AtomicBoolean closed) {
    Throwable openedAt = debugMode() ? new Throwable("opened here") : null;
    LeakReport report = new LeakReport(closed, owner.getClass().getSimpleName(), openedAt);
    return new Registration(report, CLEANER.register(owner, report));
  }

  /** Whether owners made now capture where they were opened. */
  static boolean debugMode() {
    return Boolean.getBoolean(DEBUG_PROPERTY) || LOG.isDebugEnabled();
  }

  /** What the warning names besides the type, e.g. "the checkpoint /models/a.pt". */
  void describe(String what) {
    description = what;
  }

  /** The owner is released by another owner, whose own check reports a leak of both. */
  void ownedByAnother() {
    ownedByAnother = true;
  }

  /** Runs once: at close (then silent), or when the owner became unreachable unclosed. */
  @Override
  public void run() {
    if (closed.get() || ownedByAnother) return;
    String what = description == null ? type : type + " (" + description + ")";
    String message = "ckpt4j: a " + what + " became unreachable without close(), so what it"
        + " owns (native memory, files) was not released when it should have been; close it"
        + " (try-with-resources)";
    if (openedAt == null) {
      LOG.warn("{}. To see where it was opened, run with -D{}=true", message, DEBUG_PROPERTY);
    } else {
      LOG.warn(message + "; it was opened here:", openedAt);
    }
  }

  /** A registered check and the handle that runs it (at close: silently). */
  record Registration(LeakReport report, Cleaner.Cleanable cleanable) {}
}
