package io.ckpt4j.pickle;

/**
 * Words the error for a refused global. The default, {@link #STANDARD}, tells a caller of the
 * unpickler how to allow the global; a caller with other options (the checkpoint loader's
 * LoadOptions, a CLI flag) supplies its own text.
 */
@FunctionalInterface
public interface PickleRefusal {
  /** The standard message: {@link #standardMessage}. */
  PickleRefusal STANDARD = PickleRefusal::standardMessage;

  /**
   * The one-line message for refusing {@code global} ("module.name") found at {@code where}
   * (e.g. "model.pt:archive/data.pkl at byte 57").
   */
  String message(String global, String where);

  /**
   * "unsupported global 'os.system' in WHERE: ckpt4j refuses to load code-bearing globals; if you
   * trust this file, read it as an inert object: add GlobalResolver.inert("os.system"::equals) to
   * the resolver (orElse)".
   */
  static String standardMessage(String global, String where) {
    return "unsupported global '" + global + "' in " + where
        + ": ckpt4j refuses to load code-bearing globals; if you trust this file, read it as an"
        + " inert object: add GlobalResolver.inert(\"" + global + "\"::equals) to the resolver"
        + " (orElse)";
  }
}
