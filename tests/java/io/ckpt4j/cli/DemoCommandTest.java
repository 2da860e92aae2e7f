package io.ckpt4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/**
 * {@code ckpt4j demo}, the README's main job, runs from the jar's resources (the checkpoints
 * Python wrote, bundled) and every step's logits match Python's — the demo itself fails when one
 * does not.
 */
class DemoCommandTest {
  @Test
  void theDemoRunsEveryStep() {
    StringWriter out = new StringWriter();
    CommandLine cli = new CommandLine(new Main());
    cli.setOut(new PrintWriter(out));
    int exit = cli.execute("demo");
    String text = out.toString();
    assertEquals(0, exit, text);
    for (String step : new String[] {"1. ", "2. ", "3. ", "4. ", "5. ", "6. ", "a) ", "g) ", "h) ",
        "7. ", "8. "}) {
      assertTrue(text.contains(step), "step " + step + " missing:\n" + text);
    }
    assertTrue(text.contains("remedy 3"), text);
    assertTrue(text.contains("resumed: one more step"), text);
    assertTrue(text.contains("every tensor's SHA-256 is what Python's loading loop gives"), text);
    assertTrue(text.contains("SHA-256 as dcp_to_torch_save gives: 4 of 4"), text);
  }
}
