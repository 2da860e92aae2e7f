package io.ckpt4j;

/**
 * Told how many tensor bytes a load or a save has moved so far, for a progress display (the CLI's
 * progress bar on a terminal). Set it with {@code LoadOptions.progress} / {@code
 * SaveOptions.progress}.
 *
 * <p>Called on the loading or saving thread, after each block of storages is read or each storage
 * is written: {@code done} never decreases, {@code total} stays the same for one operation, and
 * the last call has {@code done == total}. Keep it cheap; an exception it throws aborts the
 * operation.
 */
@FunctionalInterface
public interface ProgressListener {
  /** Tells nothing (the default). */
  ProgressListener NONE = (done, total) -> {};

  /** {@code done} of {@code total} bytes are through. */
  void bytes(long done, long total);
}
