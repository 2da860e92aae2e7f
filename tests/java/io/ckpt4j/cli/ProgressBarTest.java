package io.ckpt4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** The progress bar's drawing: throttled redraws, erased at the end, silent for small files. */
class ProgressBarTest {
  private static final long GIB = 1L << 30;

  @Test
  void drawsThrottledAndErasesItselfWhenDone() {
    StringWriter text = new StringWriter();
    AtomicLong clock = new AtomicLong();
    ProgressBar bar = new ProgressBar(new PrintWriter(text), "writing x.pt", clock::get);
    bar.bytes(GIB / 4, GIB);
    clock.addAndGet(ProgressBar.REDRAW_NANOS / 2);
    bar.bytes(GIB / 2, GIB); // too soon after the last redraw: skipped
    clock.addAndGet(ProgressBar.REDRAW_NANOS);
    bar.bytes(3 * GIB / 4, GIB);
    bar.bytes(GIB, GIB);
    String e = ProgressBar.ERASE_LINE;
    assertEquals(e + ProgressBar.line("writing x.pt", GIB / 4, GIB)
        + e + ProgressBar.line("writing x.pt", 3 * GIB / 4, GIB) + e, text.toString());
  }

  @Test
  void lineShowsFractionAndSizes() {
    String line = ProgressBar.line("writing", 640L << 20, 2 * GIB);
    assertEquals("writing [#########.....................]  31%  640.0 MiB / 2.00 GiB", line);
  }

  @Test
  void smallOperationsDrawNothing() {
    StringWriter text = new StringWriter();
    ProgressBar bar = new ProgressBar(new PrintWriter(text), "writing", () -> 0L);
    bar.bytes(1, ProgressBar.MIN_BYTES - 1);
    bar.bytes(ProgressBar.MIN_BYTES - 1, ProgressBar.MIN_BYTES - 1);
    assertTrue(text.toString().isEmpty(), text.toString());
  }
}
