package io.ckpt4j.pickle;

import io.ckpt4j.CheckpointException;

/**
 * A refused Python global, of kind {@link Kind#REFUSED_GLOBAL}. A {@link GlobalResolver} throws it
 * to say "not mine": a chain built with {@link GlobalResolver#orElse} then asks the next resolver,
 * and when the last one refuses too the unpickler rethrows it with a message from the
 * {@link PickleRefusal} in its options, naming the global and where it was found.
 */
public class UnsupportedGlobalException extends CheckpointException {
  private static final long serialVersionUID = 1L;

  private final String module;
  private final String name;
  private final String where;

  /** A refusal of {@code module.name} with a plain message; the unpickler words the final one. */
  public UnsupportedGlobalException(String module, String name) {
    this(module, name, "unsupported global '" + module + "." + name + "'");
  }

  /** A refusal of {@code module.name} with the given one-line message. */
  public UnsupportedGlobalException(String module, String name, String message) {
    super(Kind.REFUSED_GLOBAL, message);
    this.module = module;
    this.name = name;
    this.where = null;
  }

  /** A refusal of {@code module.name} with the given one-line message and cause. */
  public UnsupportedGlobalException(String module, String name, String message, Throwable cause) {
    this(module, name, null, message, cause);
  }

  /**
   * A refusal of {@code module.name} found at {@code where} (the pickle and byte, as the
   * unpickler words it), with the given one-line message and cause.
   */
  public UnsupportedGlobalException(String module, String name, String where, String message,
      Throwable cause) {
    super(Kind.REFUSED_GLOBAL, message, cause);
    this.module = module;
    this.name = name;
    this.where = where;
  }

  /** The refused global's module, e.g. {@code "os"}. */
  public String module() {
    return module;
  }

  /** The refused global's name, e.g. {@code "system"}. */
  public String name() {
    return name;
  }

  /** Where the unpickler met the global (pickle and byte), or null when it did not say. */
  public String where() {
    return where;
  }

  /** {@code module + "." + name}. */
  public String qualifiedName() {
    return module + "." + name;
  }
}
