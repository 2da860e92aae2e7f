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

  /** How a pickled bound method starts: {@code getattr(obj, 'name')} (Py2Names-normalised). */
  static final String GETATTR = "builtins.getattr";

  private CheckpointGlobals() {}

  static GlobalResolver resolver(LoadOptions options) {
    GlobalResolver chain = TorchGlobals.resolver().orElse(GlobalResolver.pythonBuiltins());
    Set<String> allowed = options.allowedGlobals();
    if (!allowed.isEmpty()) chain = chain.orElse(GlobalResolver.inert(allowed::contains));
    if (options.inertObjects()) {
      // getattr is recorded, never called: torch.save(model.state_dict) pickles the bound method
      // as getattr(model, 'state_dict'), which StateDict.fromWholeModule reads as the model.
      chain = chain.orElse(GlobalResolver.inert(
          name -> name.equals(GETATTR) || mayBeInert(name)));
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
    if (qualifiedName.equals(GETATTR)) {
      return "'" + GETATTR + "' in " + where + ": the file pickles a bound method, as"
          + " torch.save(model.state_dict) (the method, not its result) writes; ckpt4j never runs"
          + " it, but if you trust the file it reads the module's weights: LoadOptions"
          + ".inertObjects(true) and StateDict.fromWholeModule (CLI: convert --state-dict)";
    }
    return "unsupported global '" + qualifiedName + "' in " + where + ": it is not one"
        + " torch.load(weights_only=True) accepts, and ckpt4j never runs code; if you trust the"
        + " file, read it as an inert object with LoadOptions.allowGlobals(\"" + qualifiedName
        + "\") (CLI: --allow-global " + qualifiedName + ")";
  }
}
