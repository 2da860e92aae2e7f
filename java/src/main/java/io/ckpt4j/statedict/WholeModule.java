package io.ckpt4j.statedict;

import io.ckpt4j.CheckpointException;
import io.ckpt4j.CheckpointException.Kind;
import io.ckpt4j.load.LoadedCheckpoint;
import io.ckpt4j.load.PickledModules;
import io.ckpt4j.value.PyObject;
import io.ckpt4j.value.PyOrderedDict;
import io.ckpt4j.value.PythonTypes;
import io.ckpt4j.value.TensorRef;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The state_dict of a whole pickled {@code nn.Module} ({@code torch.save(model)}), worked out
 * from the inert object tree the reader gives with {@code LoadOptions.inertObjects(true)} —
 * nothing is run, no Python class is needed.
 *
 * <p>A pickled module is {@code NEWOBJ(cls)} then {@code BUILD(module.__dict__)}; that dict holds
 * {@code _parameters} and {@code _buffers} (dicts of name → tensor or None), {@code _modules}
 * (name → module or None) and {@code _non_persistent_buffers_set}. Python's
 * {@code state_dict()} is, for each module depth first: its parameters that are not None, then
 * its buffers that are not None and not non-persistent, then its children under
 * {@code name.} — which this walk replays, so a DataParallel wrapper (whose {@code _modules}
 * holds the model as {@code module}) gives {@code module.}-prefixed keys as in Python. Tensors
 * are detached, as Python's are. {@code _metadata} gets one entry per module with the
 * {@code _version} of its class: 2 for torch's batch and instance norms, 1 (nn.Module's) for
 * every other class, user classes included.
 *
 * <p>What a class's own Python code would add cannot be known without running it: a
 * {@code get_extra_state} override ({@code _extra_state} keys), a custom
 * {@code _save_to_state_dict}, state_dict hooks. Quantized modules rely on those and are refused.
 */
final class WholeModule {
  /** The attributes of an nn.Module's {@code __dict__} that make it one. */
  static final String GETATTR = "builtins.getattr";
  static final String STATE_DICT = "state_dict";
  static final String PARAMETERS = PickledModules.PARAMETERS;
  static final String BUFFERS = PickledModules.BUFFERS;
  static final String MODULES = PickledModules.MODULES;
  static final String NON_PERSISTENT = "_non_persistent_buffers_set";
  /** Deeper module nesting than this is a hostile file, not a model. */
  static final int MAX_DEPTH = 1_000;

  /** Python {@code _version} of torch's module classes whose version is not nn.Module's 1. */
  private static final Map<String, Long> CLASS_VERSIONS = versions(List.of(
      "torch.nn.modules.batchnorm.BatchNorm1d", "torch.nn.modules.batchnorm.BatchNorm2d",
      "torch.nn.modules.batchnorm.BatchNorm3d", "torch.nn.modules.batchnorm.LazyBatchNorm1d",
      "torch.nn.modules.batchnorm.LazyBatchNorm2d", "torch.nn.modules.batchnorm.LazyBatchNorm3d",
      "torch.nn.modules.batchnorm.SyncBatchNorm", "torch.nn.modules.instancenorm.InstanceNorm1d",
      "torch.nn.modules.instancenorm.InstanceNorm2d",
      "torch.nn.modules.instancenorm.InstanceNorm3d",
      "torch.nn.modules.instancenorm.LazyInstanceNorm1d",
      "torch.nn.modules.instancenorm.LazyInstanceNorm2d",
      "torch.nn.modules.instancenorm.LazyInstanceNorm3d"), ModuleTree.NORM_VERSION);
  /** Module packages whose classes save their state with code of their own. */
  private static final List<String> REFUSED_PACKAGES =
      List.of("torch.ao.nn.quantized.", "torch.nn.quantized.", "torch.ao.nn.intrinsic.quantized.",
          "torch.nn.intrinsic.quantized.");

  private WholeModule() {}

  private static Map<String, Long> versions(List<String> classes, long version) {
    Map<String, Long> out = new java.util.HashMap<>();
    for (String c : classes) out.put(c, version);
    return Map.copyOf(out);
  }

  /** True when {@code value} is an inert object whose state is an nn.Module's {@code __dict__}. */
  static boolean isModule(Object value) {
    return PickledModules.isModule(value);
  }

  /**
   * The whole module in {@code root}: the root itself, else the value of the first of
   * {@link StateDictSearch#KNOWN_KEYS} that is a module, else the one value of the root dict that
   * is; null when there is none.
   */
  static PyObject find(Object root) {
    if (isModule(root)) return (PyObject) root;
    PyObject bound = boundStateDict(root);
    if (bound != null) return bound;
    if (!(root instanceof Map<?, ?> map)) return null;
    for (String key : StateDictSearch.KNOWN_KEYS) {
      if (isModule(map.get(key))) return (PyObject) map.get(key);
    }
    PyObject found = null;
    for (Object value : map.values()) {
      if (isModule(value)) {
        if (found != null) return null;
        found = (PyObject) value;
      }
    }
    return found;
  }

  /**
   * The module of a pickled bound method {@code module.state_dict} (the tutorial's
   * {@code torch.save(model.state_dict, PATH)}): an inert {@code getattr(module, 'state_dict')};
   * null for anything else.
   */
  private static PyObject boundStateDict(Object value) {
    if (!(value instanceof PyObject o) || !o.className().equals(GETATTR)) return null;
    List<Object> args = o.args();
    if (args.size() != 2 || !STATE_DICT.equals(args.get(1)) || !isModule(args.get(0))) {
      return null;
    }
    return (PyObject) args.get(0);
  }

  /** Python's {@code model.state_dict()} for the whole module in {@code ckpt}. */
  static StateDict stateDict(LoadedCheckpoint ckpt) throws CheckpointException {
    PyObject root = find(ckpt.root());
    if (root == null) {
      throw new CheckpointException(Kind.WRONG_LOADER,
          "no whole pickled nn.Module in " + ckpt.path() + ": the checkpoint is "
          + PythonTypes.name(ckpt.root()) + " (for a state_dict use StateDict.from)");
    }
    StateDict out = StateDict.empty();
    PyOrderedDict metadata = Metadata.newMetadata();
    try {
      walk(root, "", out, metadata, ckpt,
          Collections.newSetFromMap(new IdentityHashMap<>()));
    } catch (CheckpointException e) {
      out.close();
      throw e;
    }
    out.setMetadata(metadata);
    return out;
  }

  private static void walk(PyObject module, String prefix, StateDict out, PyOrderedDict metadata,
      LoadedCheckpoint ckpt, Set<PyObject> path) throws CheckpointException {
    String where = prefix.isEmpty() ? "the root module"
        : "module '" + PythonTypes.printable(name(prefix)) + "'";
    if (path.size() > MAX_DEPTH || !path.add(module)) {
      throw broken(where, ckpt, "contains itself (or nests deeper than " + MAX_DEPTH + ")");
    }
    String className = module.className();
    for (String refused : REFUSED_PACKAGES) {
      if (className.startsWith(refused)) {
        throw new CheckpointException(Kind.UNSUPPORTED_FORMAT,
            where + " of " + ckpt.path() + " is a quantized module ("
            + PythonTypes.printable(className) + ") whose state_dict Python's code computes;"
            + " save model.state_dict() in Python instead");
      }
    }
    Map<?, ?> dict = instanceDict(module);
    metadata.put(name(prefix), Metadata.entry(
        CLASS_VERSIONS.getOrDefault(className, ModuleTree.MODULE_VERSION)));
    Map<?, ?> parameters = dictAttribute(dict, PARAMETERS, where, ckpt);
    Map<?, ?> buffers = dictAttribute(dict, BUFFERS, where, ckpt);
    Map<?, ?> modules = dictAttribute(dict, MODULES, where, ckpt);
    Set<?> nonPersistent = nonPersistent(dict, where, ckpt);
    for (Map.Entry<?, ?> e : parameters.entrySet()) {
      addTensor(out, prefix, e, "parameter", where, ckpt);
    }
    for (Map.Entry<?, ?> e : buffers.entrySet()) {
      if (!nonPersistent.contains(e.getKey())) addTensor(out, prefix, e, "buffer", where, ckpt);
    }
    for (Map.Entry<?, ?> e : modules.entrySet()) {
      if (e.getValue() == null) continue;
      String name = key(e.getKey(), "child module", where, ckpt);
      if (!isModule(e.getValue())) {
        throw broken(where, ckpt, "has child '" + PythonTypes.printable(name) + "' that is "
            + PythonTypes.name(e.getValue()) + ", not an nn.Module");
      }
      walk((PyObject) e.getValue(), prefix + name + ".", out, metadata, ckpt, path);
    }
    path.remove(module);
  }

  private static void addTensor(StateDict out, String prefix, Map.Entry<?, ?> entry, String kind,
      String where, LoadedCheckpoint ckpt) throws CheckpointException {
    if (entry.getValue() == null) return;
    String name = key(entry.getKey(), kind, where, ckpt);
    if (!(entry.getValue() instanceof TensorRef ref)) {
      throw broken(where, ckpt, "has " + kind + " '" + PythonTypes.printable(name) + "' that is "
          + PythonTypes.name(entry.getValue()) + ", not a tensor");
    }
    out.putOwned(prefix + name, ckpt.tensor(ref).detach());
  }

  private static String key(Object key, String kind, String where, LoadedCheckpoint ckpt)
      throws CheckpointException {
    if (key instanceof String s) return s;
    throw broken(where, ckpt, "names a " + kind + " with " + PythonTypes.name(key)
        + " instead of a str");
  }

  /** The object's {@code __dict__}: its BUILD state, or the dict of a (dict, slots) state. */
  private static Map<?, ?> instanceDict(PyObject o) {
    return PickledModules.instanceDict(o);
  }

  private static Map<?, ?> dictAttribute(Map<?, ?> dict, String attribute, String where,
      LoadedCheckpoint ckpt) throws CheckpointException {
    Object value = dict.get(attribute);
    if (value instanceof Map<?, ?> m) return m;
    throw broken(where, ckpt, "has " + attribute + " = " + PythonTypes.name(value)
        + ", not a dict");
  }

  /** {@code _non_persistent_buffers_set}; absent (empty) in modules pickled before torch 1.6. */
  private static Set<?> nonPersistent(Map<?, ?> dict, String where, LoadedCheckpoint ckpt)
      throws CheckpointException {
    Object value = dict.get(NON_PERSISTENT);
    if (value == null) return Set.of();
    if (value instanceof Set<?> s) return s;
    throw broken(where, ckpt, "has " + NON_PERSISTENT + " = " + PythonTypes.name(value)
        + ", not a set");
  }

  /** A module tree state_dict() cannot walk: says what and where, and the way out. */
  private static CheckpointException broken(String where, LoadedCheckpoint ckpt, String what) {
    return new CheckpointException(Kind.INVALID_VALUE, where + " of " + ckpt.path() + " " + what
        + "; Python's state_dict() fails on it too: save model.state_dict() where the model works");
  }

  private static String name(String prefix) {
    return prefix.isEmpty() ? "" : prefix.substring(0, prefix.length() - 1);
  }
}
