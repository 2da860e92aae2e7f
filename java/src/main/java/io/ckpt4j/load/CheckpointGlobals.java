package io.ckpt4j.load;

import io.ckpt4j.pickle.GlobalResolver;
import java.util.List;
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

  /** True for a global that runs code or reaches the system (never read as data unasked). */
  static boolean runsCode(String qualifiedName) {
    return !qualifiedName.equals(GETATTR) && !mayBeInert(qualifiedName);
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
    return refusal(List.of(qualifiedName), where);
  }

  /**
   * The error for a file that needs all of {@code qualifiedNames} (in the order met, the first at
   * {@code where}): a hint that allows them all, which makes the file load — or, when one of them
   * runs code, no hint: that file is a program, not data.
   */
  static String refusal(List<String> qualifiedNames, String where) {
    String first = qualifiedNames.get(0);
    String dangerous = qualifiedNames.stream().filter(CheckpointGlobals::runsCode).findFirst()
        .orElse(null);
    if (dangerous != null) {
      return "unsupported global '" + first + "' in " + where + ": " + (dangerous.equals(first)
          ? "it runs code or reaches the system" : "the file also uses '" + dangerous + "', which"
          + " runs code or reaches the system") + ", so the file is a program rather than saved"
          + " data; ckpt4j never runs code and suggests no way to read it: load only files whose"
          + " origin you know";
    }
    String quoted = String.join(", ", qualifiedNames.stream().map(n -> "'" + n + "'").toList());
    String args = String.join(", ", qualifiedNames.stream().map(n -> "\"" + n + "\"").toList());
    String cli = String.join(" ", qualifiedNames.stream().map(n -> "--allow-global " + n)
        .toList());
    boolean one = qualifiedNames.size() == 1;
    return "unsupported global" + (one ? " " : "s ") + quoted + " in " + where + ": "
        + (one ? "it is not one" : "they are not ones") + " torch.load(weights_only=True) accepts,"
        + " and ckpt4j never runs code; if you trust the file, read " + (one ? "it as an inert"
        + " object" : "them as inert objects") + " with LoadOptions.allowGlobals(" + args + ")"
        + " (CLI: " + cli + ")";
  }
}
