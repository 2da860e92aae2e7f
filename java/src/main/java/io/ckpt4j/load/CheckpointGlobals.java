package io.ckpt4j.load;

import io.ckpt4j.pickle.GlobalResolver;
import java.util.Set;

/**
 * The resolver chain a checkpoint load uses, in order of trust: torch's weights-only globals,
 * Python's harmless builtins, the caller's allowlist (inert), inert objects when asked for. What
 * the chain refuses, the unpickler reports with {@link #refusal}.
 */
final class CheckpointGlobals {
  /**
   * Modules whose globals run code or reach the system even in "inert objects" mode: refusing
   * them there too keeps a consumer that interprets inert objects from being handed a payload.
   */
  private static final Set<String> NEVER_INERT_MODULES = Set.of(
      "builtins", "__builtin__", "os", "posix", "nt", "subprocess", "sys", "runpy", "importlib",
      "pickle", "_pickle", "shutil", "socket", "ctypes", "code", "codeop", "pty", "webbrowser",
      "asyncio", "multiprocessing", "torch.hub", "torch.jit", "operator", "functools", "types");

  private CheckpointGlobals() {}

  static GlobalResolver resolver(LoadOptions options) {
    GlobalResolver chain = TorchGlobals.resolver().orElse(GlobalResolver.pythonBuiltins());
    Set<String> allowed = options.allowedGlobals();
    if (!allowed.isEmpty()) chain = chain.orElse(GlobalResolver.inert(allowed::contains));
    if (options.inertObjects()) {
      chain = chain.orElse(GlobalResolver.inert(CheckpointGlobals::mayBeInert));
    }
    return chain;
  }

  private static boolean mayBeInert(String qualifiedName) {
    for (String module : NEVER_INERT_MODULES) {
      if (qualifiedName.startsWith(module + ".")) return false;
    }
    return true;
  }

  /** The error for a global the whole chain refused: names it and says how to allow it. */
  static String refusal(String qualifiedName, String where) {
    return "unsupported global '" + qualifiedName + "' in " + where + ": it is not one"
        + " torch.load(weights_only=True) accepts, and ckpt4j never runs code; if you trust the"
        + " file, read it as an inert object with LoadOptions.allowGlobals(\"" + qualifiedName
        + "\") (CLI: --allow-global " + qualifiedName + ")";
  }
}
