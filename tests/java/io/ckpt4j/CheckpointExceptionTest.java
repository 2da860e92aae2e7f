package io.ckpt4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ckpt4j.CheckpointException.Kind;
import java.nio.file.AccessDeniedException;
import java.nio.file.NoSuchFileException;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The kind, the location set once, the one-line rule and the one "first line" of an error. */
class CheckpointExceptionTest {
  @Test
  void everyErrorHasAKind() {
    assertThrows(NullPointerException.class, () -> new CheckpointException(null, "what"));
    CheckpointException e = new CheckpointException(Kind.TRUNCATED, "ends early");
    assertEquals(Kind.TRUNCATED, e.kind());
    assertEquals(Optional.empty(), e.location());
    assertEquals("ends early", e.getMessage());
  }

  @Test
  void theLocationIsSetOnceAndPrefixesTheDetail() {
    CheckpointException e = new CheckpointException(Kind.MALFORMED_CONTAINER, "bad CRC");
    assertSame(e, e.at("zip file a.pt"));
    e.at("model.pt"); // an outer opener: the inner, more precise location stays
    assertEquals("zip file a.pt", e.location().orElseThrow());
    assertEquals("bad CRC", e.detail());
    assertEquals("zip file a.pt: bad CRC", e.getMessage());
    assertEquals(CheckpointException.class.getName() + ": zip file a.pt: bad CRC", e.toString());
  }

  @Test
  void messagesAndLocationsAreOneLine() {
    CheckpointException e = new CheckpointException(Kind.MALFORMED_CONTAINER,
        "entry a/b\nc names a different file\r\u2028").at("zip file x\ny.zip");
    assertEquals("zip file x\\ny.zip: entry a/b\\nc names a different file\\r\\u2028",
        e.getMessage());
  }

  @Test
  void aMissingFileIsNotFoundAnyOtherFileFailureIo() {
    assertEquals(Kind.NOT_FOUND, CheckpointException.ioKind(new NoSuchFileException("x.pt")));
    assertEquals(Kind.IO, CheckpointException.ioKind(new AccessDeniedException("x.pt")));
  }

  @Test
  void firstLineDropsLibTorchsStackTrace() {
    RuntimeException e = new RuntimeException("\n  shape '[2, 3]' is invalid for input of size 4\n"
        + "Exception raised from view at aten/src/ATen/native/TensorShape.cpp:3000\n"
        + "frame #0: c10::Error::Error(...)");
    assertEquals("shape '[2, 3]' is invalid for input of size 4", CheckpointException.firstLine(e));
  }

  @Test
  void firstLineOfATorchScriptErrorIsItsPythonStyleLastLine() {
    RuntimeException e = new RuntimeException(
        "The following operation failed in the TorchScript interpreter.\n"
            + "Traceback of TorchScript (most recent call last):\n"
            + "  File \"code/__torch__.py\", line 8, in forward\n"
            + "RuntimeError: Given groups=1, weight of size [4, 3, 1, 1], expected input to have 3"
            + " channels, but got 2 channels instead\n");
    assertEquals("RuntimeError: Given groups=1, weight of size [4, 3, 1, 1], expected input to"
        + " have 3 channels, but got 2 channels instead", CheckpointException.firstLine(e));
  }

  @Test
  void firstLineOfNothingIsTheClassAndLongLinesAreCut() {
    assertEquals(IllegalStateException.class.getName(),
        CheckpointException.firstLine(new IllegalStateException()));
    assertEquals(NullPointerException.class.getName(),
        CheckpointException.firstLine(new NullPointerException(" \n ")));
    String line = CheckpointException.firstLine(new RuntimeException("x".repeat(1000)));
    assertEquals(CheckpointException.MAX_LINE_CHARS + "...".length(), line.length());
    assertTrue(line.endsWith("..."), line);
  }
}
