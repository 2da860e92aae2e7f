package io.ckpt4j.cli;

import io.ckpt4j.ProgressListener;
import java.io.PrintWriter;
import java.util.Locale;
import java.util.function.LongSupplier;

/**
 * The CLI's progress bar: one line on stderr, redrawn in place ({@code \r}) at most every {@link
 * #REDRAW_NANOS}, erased when the operation completes so the command's own output stays as it
 * is. Drawn only on a terminal (see {@link #onTerminal}) and only for operations of at least
 * {@link #MIN_BYTES}: a bar that flashes for an instant is noise. Written here rather than taken
 * from a progress-bar library because it is one line of output and picocli already owns the
 * streams; a library would bring its own terminal handling for no gain.
 */
final class ProgressBar implements ProgressListener {
  /** Operations smaller than this draw nothing. */
  static final long MIN_BYTES = 64L << 20;
  /** The shortest time between two redraws. */
  static final long REDRAW_NANOS = 100_000_000L;
  /** Characters between the brackets. */
  static final int WIDTH = 30;
  /** Back to the line's start, then erase to its end (ANSI "erase in line"). */
  static final String ERASE_LINE = "\r\033[K";

  private final PrintWriter err;
  private final String label;
  private final LongSupplier nanoClock;
  private long lastDraw;
  private boolean drawn;

  ProgressBar(PrintWriter err, String label, LongSupplier nanoClock) {
    this.err = err;
    this.label = label;
    this.nanoClock = nanoClock;
  }

  /**
   * A bar on {@code err} when the user watches a terminal and did not turn it off; else {@link
   * ProgressListener#NONE}. Java cannot ask whether stderr itself is a terminal: a console (stdin
   * and stdout both terminals) stands for it, so a command whose output is piped draws nothing.
   */
  static ProgressListener onTerminal(PrintWriter err, String label, boolean enabled) {
    boolean terminal = System.console() != null && !"dumb".equals(System.getenv("TERM"));
    return enabled && terminal ? new ProgressBar(err, label, System::nanoTime)
        : ProgressListener.NONE;
  }

  @Override
  public void bytes(long done, long total) {
    if (total < MIN_BYTES) return;
    if (done >= total) {
      if (drawn) {
        err.print(ERASE_LINE);
        err.flush();
        drawn = false;
      }
      return;
    }
    long now = nanoClock.getAsLong();
    if (drawn && now - lastDraw < REDRAW_NANOS) return;
    lastDraw = now;
    drawn = true;
    err.print(ERASE_LINE + line(label, done, total));
    err.flush();
  }

  /** {@code writing [#########.....]  31%  640.0 MiB / 2.00 GiB}. */
  static String line(String label, long done, long total) {
    double fraction = Math.min(1.0, Math.max(0.0, (double) done / total));
    int filled = (int) Math.round(fraction * WIDTH);
    return String.format(Locale.ROOT, "%s [%s%s] %3d%%  %s / %s", label, "#".repeat(filled),
        ".".repeat(WIDTH - filled), (int) Math.floor(fraction * 100), InspectText.bytes(done),
        InspectText.bytes(total));
  }
}
