package io.ckpt4j.load;

import io.ckpt4j.CheckpointException;
import io.ckpt4j.pickle.GlobalResolver;
import io.ckpt4j.pickle.UnsupportedGlobalException;
import java.util.Set;

/**
 * What ckpt4j makes of a Python global, shared by the loader (which refuses) and the scanner
 * (which reports): whether the default reader accepts it (torch's {@code weights_only=True} set and
 * Python's harmless builtins), whether it runs code or reaches the system, and whether an inert
 * read ({@code LoadOptions.inertObjects}) may call it with REDUCE.
 *
 * <p>An inert read constructs classes as records and calls only the reconstructors that whole-model
 * and training pickles use; a REDUCE of any other function (a loader or runner from torch or numpy,
 * say) is a program, not saved data, and is refused.
 */
public final class GlobalPolicy {
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

  /** Prefix of torch's tensor and parameter rebuild functions. */
  private static final String TORCH_REBUILD_PREFIX = "torch._utils._rebuild_";

  /**
   * The functions (not classes) that whole-model and training pickles call with REDUCE to rebuild
   * a value: numpy arrays and scalars, tensor subclasses, layouts, protocol 0/1 objects.
   */
  private static final Set<String> RECONSTRUCTORS = Set.of(
      "copyreg._reconstructor", "copyreg.__newobj__", "copyreg.__newobj_ex__",
      "numpy.core.multiarray._reconstruct", "numpy._core.multiarray._reconstruct",
      "numpy.core.multiarray.scalar", "numpy._core.multiarray.scalar",
      "torch.serialization._get_layout", "torch._tensor._rebuild_from_type",
      "torch._tensor._rebuild_from_type_v2");

  /** Classes spelt in lower case that pickles construct with REDUCE. */
  private static final Set<String> LOWER_CASE_CLASSES = Set.of(
      "datetime.datetime", "datetime.date", "datetime.time", "datetime.timedelta",
      "datetime.timezone", "numpy.dtype", "numpy.ndarray", "collections.defaultdict",
      "collections.deque");

  /** The reader's own safe globals: torch's weights-only set, then Python's harmless builtins. */
  private static final GlobalResolver DEFAULT_GLOBALS =
      TorchGlobals.resolver().orElse(GlobalResolver.pythonBuiltins());

  private GlobalPolicy() {}

  /**
   * True when the default reader accepts {@code module.name}: torch's {@code weights_only=True}
   * set (those ckpt4j does not read yet included) and Python's harmless builtins.
   */
  public static boolean isAllowed(String module, String name) {
    try {
      DEFAULT_GLOBALS.resolve(module, name);
      return true;
    } catch (UnsupportedGlobalException refused) {
      return false;
    } catch (CheckpointException knownButUnread) {
      return true; // a weights-only global ckpt4j does not read yet (sparse, quantized...)
    }
  }

  /** True for a global that runs code or reaches the system (never read as data unasked). */
  public static boolean runsCode(String qualifiedName) {
    if (qualifiedName.equals(GETATTR)) return false;
    for (String module : NEVER_INERT_MODULES) {
      if (qualifiedName.startsWith(module + ".")) return true;
    }
    return false;
  }

  /**
   * True when an inert read may call {@code qualifiedName} with REDUCE (recording the call, running
   * nothing): a class (named in CamelCase, or one of the few lower-case ones), a reconstructor, or
   * {@code getattr} of a pickled bound method. A function otherwise.
   */
  public static boolean mayCall(String qualifiedName) {
    return qualifiedName.equals(GETATTR) || RECONSTRUCTORS.contains(qualifiedName)
        || qualifiedName.startsWith(TORCH_REBUILD_PREFIX)
        || LOWER_CASE_CLASSES.contains(qualifiedName) || looksLikeClass(qualifiedName);
  }

  /** Python's naming: a class is CamelCase ({@code Namespace}, {@code _MemFormat}, {@code E}). */
  private static boolean looksLikeClass(String qualifiedName) {
    String last = qualifiedName.substring(qualifiedName.lastIndexOf('.') + 1);
    int i = 0;
    while (i < last.length() && last.charAt(i) == '_') i++;
    return i < last.length() && Character.isUpperCase(last.charAt(i));
  }

  /** The error for a REDUCE of a function that an inert read does not call. */
  static String callRefusal(String qualifiedName) {
    return "the pickle calls the function '" + qualifiedName + "' (REDUCE): inert objects"
        + " construct classes and call only the reconstructors whole-model pickles use, and a call"
        + " of any other function is a program rather than saved data (torch.load with"
        + " weights_only=False would run it); ckpt4j suggests no way to read it: load only files"
        + " whose origin you know";
  }
}
