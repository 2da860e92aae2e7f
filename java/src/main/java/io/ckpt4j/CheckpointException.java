package io.ckpt4j;

import java.io.IOException;
import java.nio.file.NoSuchFileException;
import java.util.Objects;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * The one checked exception for a checkpoint that cannot be read or written: bad or hostile input,
 * a refused Python global, a device that does not exist, a failed native call.
 *
 * <p>Its {@link #kind()} says what went wrong in terms a caller can act on; the message is one line
 * that says where (file, entry, byte offset or key path), what, and, where there is one, how to
 * fix it. The location is set once, where the file or container is opened ({@link #at}), and
 * prefixes the {@link #detail()} that the code which found the problem wrote.
 */
public class CheckpointException extends IOException {
  private static final long serialVersionUID = 2L;

  /** What went wrong, in the spirit of safetensors' {@code SafeTensorError}. */
  public enum Kind {
    /** The input is no format ckpt4j reads: empty, unknown bytes, a zip or pickle not torch's. */
    NOT_A_CHECKPOINT,
    /** A valid input of another kind than the call reads; the message names the call for it. */
    WRONG_LOADER,
    /** A known format, version or feature ckpt4j or LibTorch 2.13 does not read or write. */
    UNSUPPORTED_FORMAT,
    /** The input ends before the data it declares: a cut-off download or copy. */
    TRUNCATED,
    /** The zip or safetensors structure is corrupt, inconsistent or tampered with. */
    MALFORMED_CONTAINER,
    /** The pickle is not one Python writes: bad opcode, stack, memo or arguments to a global. */
    MALFORMED_PICKLE,
    /**
     * The pickle names a global ckpt4j does not resolve (allowGlobals/inertObjects if trusted), or
     * calls a function that inert objects do not call.
     */
    REFUSED_GLOBAL,
    /** A tensor or storage record lies: shape, stride or offset past its storage, wrong size. */
    INVALID_TENSOR,
    /** The input passes a safety limit: size, nesting depth, entry or leaf count. */
    LIMIT_EXCEEDED,
    /** A device (map_location, cuda:N) that is unknown or not present on this machine. */
    DEVICE,
    /** A state_dict does not fit its target: missing, unexpected or colliding keys, shapes. */
    STATE_DICT_MISMATCH,
    /** A value, in the file or from the caller, of the wrong Python type, arity or range. */
    INVALID_VALUE,
    /** A value ckpt4j cannot write or hand over (no pickle or TorchScript form for it). */
    UNSUPPORTED_VALUE,
    /** A file, method or record the call names does not exist. */
    NOT_FOUND,
    /** The operating system refused a read, write, rename or fsync. */
    IO,
    /** LibTorch or ckpt4j's native library failed; the message carries its reason. */
    NATIVE,
    /**
     * A rank of a process group did not answer within the timeout, went away, or never joined:
     * the rendezvous or a collective failed (the group cannot be used again).
     */
    PEER_FAILED
  }

  /** The first line of an error thrown while the TorchScript interpreter ran a method. */
  private static final String INTERPRETER_HEADER =
      "The following operation failed in the TorchScript interpreter.";
  /** The last Python-style "SomeError: what" line of a TorchScript traceback. */
  private static final Pattern PYTHON_ERROR_LINE =
      Pattern.compile("^[A-Za-z_][A-Za-z0-9_.]*(Error|Exception): .*");
  /** {@link #firstLine} cuts to this many characters (shapes and names fit; tracebacks do not). */
  static final int MAX_LINE_CHARS = 400;

  private final Kind kind;
  private String location;

  /** A failure of {@code kind}; line breaks in {@code message} are escaped: it is one line. */
  public CheckpointException(Kind kind, String message) {
    super(oneLine(message));
    this.kind = Objects.requireNonNull(kind, "kind");
  }

  /** Like {@link #CheckpointException(Kind, String)}, caused by {@code cause}. */
  public CheckpointException(Kind kind, String message, Throwable cause) {
    super(oneLine(message), cause);
    this.kind = Objects.requireNonNull(kind, "kind");
  }

  /** What went wrong. */
  public Kind kind() {
    return kind;
  }

  /** Where in the input it went wrong ("zip file model.pt"), when the opener set it. */
  public Optional<String> location() {
    return Optional.ofNullable(location);
  }

  /** The message without the location: what went wrong and how to fix it. */
  public String detail() {
    return super.getMessage();
  }

  /** {@code "LOCATION: DETAIL"}, or the detail alone when no location is set. */
  @Override
  public String getMessage() {
    return location == null ? detail() : location + ": " + detail();
  }

  /**
   * Sets where the failure happened, unless an inner opener already did (the innermost location
   * is the most precise). Openers of files and containers call it once, on the way out.
   *
   * @return this exception, to rethrow
   */
  public CheckpointException at(String where) {
    if (location == null) location = oneLine(Objects.requireNonNull(where, "where"));
    return this;
  }

  /**
   * {@code text} with each line break written as an escape (a backslash and n, r, or u and the
   * code point): names from a file (a zip entry, a path) may hold any character.
   */
  private static String oneLine(String text) {
    if (text == null) return null;
    StringBuilder out = null;
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      String escape = switch (c) {
        case '\n' -> "\\n";
        case '\r' -> "\\r";
        case '\u000b', '\f', '\u0085', '\u2028', '\u2029' -> String.format("\\u%04x", (int) c);
        default -> null;
      };
      if (escape != null && out == null) {
        out = new StringBuilder(text.length() + 8).append(text, 0, i);
      }
      if (out != null) {
        if (escape != null) out.append(escape);
        else out.append(c);
      }
    }
    return out == null ? text : out.toString();
  }

  /** The kind of a failed file operation: {@link Kind#NOT_FOUND} for a missing file, else IO. */
  public static Kind ioKind(Throwable failure) {
    return failure instanceof NoSuchFileException ? Kind.NOT_FOUND : Kind.IO;
  }

  /**
   * The line of {@code e}'s message that says what went wrong (or its class name when it has
   * none): LibTorch's exceptions carry a C++ stack trace after it, TorchScript's a traceback
   * before it, and ckpt4j's messages are one line.
   */
  public static String firstLine(Throwable e) {
    String message = e.getMessage();
    if (message == null || message.isBlank()) return e.getClass().getName();
    String[] lines = message.split("\\R");
    String chosen = null;
    if (message.strip().startsWith(INTERPRETER_HEADER)) {
      for (int i = lines.length - 1; i >= 0 && chosen == null; i--) {
        if (PYTHON_ERROR_LINE.matcher(lines[i].strip()).matches()) chosen = lines[i].strip();
      }
    }
    for (int i = 0; i < lines.length && chosen == null; i++) {
      if (!lines[i].isBlank()) chosen = lines[i].strip();
    }
    return chosen.length() <= MAX_LINE_CHARS ? chosen
        : chosen.substring(0, MAX_LINE_CHARS) + "...";
  }
}
