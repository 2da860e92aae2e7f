package io.ckpt4j.load;

import io.ckpt4j.CheckpointException;
import io.ckpt4j.pickle.GlobalResolver;
import io.ckpt4j.pickle.UnsupportedGlobalException;
import io.ckpt4j.value.PyGlobalRef;
import java.util.List;
import java.util.Set;

/**
 * The resolver chain a checkpoint load uses, in order of trust: torch's weights-only globals,
 * Python's harmless builtins, the caller's allowlist (inert), inert objects when asked for. What
 * the chain refuses, the unpickler reports with {@link #refusal}.
 */
final class CheckpointGlobals {
  /** How a pickled bound method starts: {@code getattr(obj, 'name')} (Py2Names-normalised). */
  static final String GETATTR = GlobalPolicy.GETATTR;

  private CheckpointGlobals() {}

  static GlobalResolver resolver(LoadOptions options) {
    GlobalResolver chain = TorchGlobals.resolver().orElse(GlobalResolver.pythonBuiltins());
    Set<String> allowed = options.allowedGlobals();
    if (!allowed.isEmpty()) chain = chain.orElse(GlobalResolver.inert(allowed::contains));
    if (options.inertObjects()) {
      // getattr is recorded, never called: torch.save(model.state_dict) pickles the bound method
      // as getattr(model, 'state_dict'), which StateDict.fromWholeModule reads as the model.
      // Classes are constructed inert; REDUCE calls only reconstructors (GlobalPolicy.mayCall).
      chain = chain.orElse(CheckpointGlobals::inertGlobal);
    }
    return chain;
  }

  /** True for a global that runs code or reaches the system (never read as data unasked). */
  static boolean runsCode(String qualifiedName) {
    return GlobalPolicy.runsCode(qualifiedName);
  }

  /** An inert object for every global that does not run code; a function cannot be called. */
  private static Object inertGlobal(String module, String name) throws CheckpointException {
    String qualified = module + "." + name;
    if (runsCode(qualified)) throw new UnsupportedGlobalException(module, name);
    return GlobalPolicy.mayCall(qualified) ? new PyGlobalRef(module, name)
        : PyGlobalRef.uncallable(module, name, GlobalPolicy.callRefusal(qualified));
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
