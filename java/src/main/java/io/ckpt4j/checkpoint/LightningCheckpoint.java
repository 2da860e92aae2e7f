package io.ckpt4j.checkpoint;

import io.ckpt4j.CheckpointException;
import io.ckpt4j.CheckpointException.Kind;
import io.ckpt4j.checkpoint.optim.OptimizerStateDict;
import io.ckpt4j.load.CheckpointLoader;
import io.ckpt4j.load.LoadOptions;
import io.ckpt4j.load.LoadedCheckpoint;
import io.ckpt4j.load.TensorTrees;
import io.ckpt4j.save.SaveOptions;
import io.ckpt4j.save.TorchSaver;
import io.ckpt4j.statedict.StateDict;
import io.ckpt4j.value.PyObject;
import io.ckpt4j.value.PyValues;
import io.ckpt4j.value.PythonTypes;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A PyTorch Lightning {@code .ckpt}: the dict Lightning 2.x's {@code dump_checkpoint} builds and
 * {@code torch.save}s,
 * <pre>{@code
 * {"epoch": ..., "global_step": ..., "pytorch-lightning_version": "2.x",
 *  "state_dict": lightning_module.state_dict(), "loops": {...}, "callbacks": {...},
 *  "optimizer_states": [optimizer.state_dict(), ...],
 *  "lr_schedulers": [scheduler.state_dict(), ...],
 *  "hparams_name": "kwargs", "hyper_parameters": dict(lightning_module.hparams)}
 * }</pre>
 * A LightningModule that keeps its network as {@code self.model} saves keys {@code model.xxx}:
 * {@link #model(String)} gives the network's own state_dict (the keys under that attribute, the
 * prefix stripped). Resuming in Java what Python's Lightning restore does:
 * <pre>{@code
 * try (LightningCheckpoint ckpt = LightningCheckpoint.load(path, LoadOptions.defaults());
 *     StateDict weights = ckpt.model("model")) {
 *   weights.loadInto(module);
 *   optimizer.loadStateDict(ckpt.optimizerStates().get(0));    // io.ckpt4j.checkpoint.optim
 *   scheduler.loadStateDict(ckpt.lrSchedulers().get(0));       // io.ckpt4j.checkpoint.sched
 *   long step = ckpt.globalStep();
 * }
 * }</pre>
 * and writing one that {@code torch.load(path, weights_only=True)} reads and Lightning-style code
 * resumes:
 * <pre>{@code
 * try (LightningCheckpoint ckpt = LightningCheckpoint.create()) {
 *   ckpt.model(StateDict.of(module), "model").optimizerStates(List.of(optimizer.stateDict()))
 *       .lrSchedulers(List.of(scheduler.stateDict())).epoch(epoch).globalStep(step)
 *       .hyperParameters(hparams).save(path);
 * }
 * }</pre>
 * {@link #create()} writes {@code pytorch-lightning_version} ({@link #LIGHTNING_VERSION}) and the
 * entries it is given; it writes no {@code loops} or {@code callbacks} of its own (the trainer's
 * loop progress and callback states are Lightning objects' state Java does not model: a loaded
 * file's are kept as they are and written back unchanged, see {@link #get} / {@link #put}).
 *
 * <p>{@code hyper_parameters} is a dict (an {@code argparse.Namespace} there, from old
 * Lightning versions, is read as its attributes when the caller allows the class:
 * {@code LoadOptions.allowGlobals("argparse.Namespace")}); it is written as a dict.
 *
 * <p>Owns its tensors: the setters take over what they are given (a value replaced is closed),
 * {@link #close()} releases everything; twice is harmless. Not thread-safe.
 */
public final class LightningCheckpoint extends CheckpointEntries {
  public static final String EPOCH = "epoch";
  public static final String GLOBAL_STEP = "global_step";
  public static final String VERSION = "pytorch-lightning_version";
  public static final String STATE_DICT = "state_dict";
  public static final String LOOPS = "loops";
  public static final String CALLBACKS = "callbacks";
  public static final String OPTIMIZER_STATES = "optimizer_states";
  public static final String LR_SCHEDULERS = "lr_schedulers";
  public static final String HYPER_PARAMETERS = "hyper_parameters";
  /** The attribute a LightningModule commonly holds its network in ({@code self.model}). */
  public static final String DEFAULT_ATTRIBUTE = "model";
  /** What {@link #create()} writes as {@code pytorch-lightning_version}: the 2.x layout. */
  public static final String LIGHTNING_VERSION = "2.5.1";
  /** Lightning's order of the entries it writes first; any others follow in their order. */
  private static final List<String> ORDER = List.of(EPOCH, GLOBAL_STEP, VERSION, STATE_DICT,
      LOOPS, CALLBACKS, OPTIMIZER_STATES, LR_SCHEDULERS);

  private LightningCheckpoint() {}

  /** An empty checkpoint with {@code pytorch-lightning_version} set, to fill and {@link #save}. */
  public static LightningCheckpoint create() {
    LightningCheckpoint ckpt = new LightningCheckpoint();
    ckpt.entries.put(VERSION, LIGHTNING_VERSION);
    return ckpt;
  }

  /**
   * {@code torch.load(path, map_location=...)} of a Lightning {@code .ckpt}: the root must be a
   * dict with str keys and a {@code state_dict}. Everything read outlives the file.
   *
   * @throws CheckpointException when the file cannot be read or is no Lightning checkpoint, or an
   *     entry is not what Lightning writes under its name (one line naming the entry)
   */
  public static LightningCheckpoint load(Path path, LoadOptions options)
      throws CheckpointException {
    try (LoadedCheckpoint loaded = CheckpointLoader.load(path, options)) {
      return from(loaded);
    }
  }

  /** The Lightning checkpoint in an already loaded file (which may be closed afterwards). */
  public static LightningCheckpoint from(LoadedCheckpoint loaded) throws CheckpointException {
    Object root = loaded.root();
    String where = "the Lightning checkpoint " + loaded.path();
    if (!(root instanceof Map<?, ?> map) || !map.containsKey(STATE_DICT)) {
      throw new CheckpointException(Kind.WRONG_LOADER, where + " holds "
          + PythonTypes.name(root) + " without a 'state_dict' entry: it is no Lightning checkpoint"
          + " (read a training checkpoint with Checkpoint.load, any file with CheckpointLoader.load)");
    }
    LightningCheckpoint ckpt = new LightningCheckpoint();
    try {
      for (Map.Entry<?, ?> e : map.entrySet()) {
        String key = PyValues.toStr(e.getKey(), where + ": a top-level key");
        ckpt.entries.put(key, ckpt.read(key, e.getValue(), loaded, where + " '" + key + "'"));
      }
      return ckpt;
    } catch (CheckpointException | RuntimeException e) {
      ckpt.close();
      throw e;
    }
  }

  private Object read(String key, Object value, LoadedCheckpoint loaded, String where)
      throws CheckpointException {
    if (value == null) return null;
    switch (key) {
      case STATE_DICT:
        return StateDict.fromTree(value, loaded);
      case OPTIMIZER_STATES: {
        List<OptimizerStateDict> out = new ArrayList<>();
        try {
          for (Object o : PyValues.toList(value, where)) {
            out.add(OptimizerStateDict.fromTree(o, loaded));
          }
        } catch (CheckpointException | RuntimeException e) {
          out.forEach(OptimizerStateDict::close);
          throw e;
        }
        return out;
      }
      case LR_SCHEDULERS: {
        List<Map<String, Object>> out = new ArrayList<>();
        for (Object s : PyValues.toList(TensorTrees.materialize(value, loaded, owned), where)) {
          out.add(Checkpoint.stringKeyed(PyValues.toMap(s, where + " item"), where + " item"));
        }
        return out;
      }
      case HYPER_PARAMETERS: {
        Object tree = TensorTrees.materialize(value, loaded, owned);
        if (Namespaces.isNamespace(tree)) return Namespaces.attributes((PyObject) tree, where);
        return Checkpoint.stringKeyed(PyValues.toMap(tree, where), where);
      }
      default:
        return TensorTrees.materialize(value, loaded, owned);
    }
  }

  // ---- the known entries

  /** {@code ckpt["state_dict"]}: the LightningModule's state_dict, keys as saved. */
  public StateDict stateDict() throws CheckpointException {
    ensureOpen();
    if (entries.get(STATE_DICT) instanceof StateDict sd) return sd;
    throw missing(STATE_DICT);
  }

  /** {@link #model(String)} of {@link #DEFAULT_ATTRIBUTE}: the network kept as {@code self.model}. */
  public StateDict model() throws CheckpointException {
    return model(DEFAULT_ATTRIBUTE);
  }

  /**
   * The state_dict of the network the LightningModule holds as {@code self.<attribute>}: the keys
   * that start with {@code attribute + "."}, that prefix stripped (Python's
   * {@code consume_prefix_in_state_dict_if_present} on the filtered dict). A new state_dict (same
   * tensors) for the caller to close.
   *
   * @throws CheckpointException when no key starts with that prefix (the message names the
   *     prefixes the keys do have)
   */
  public StateDict model(String attribute) throws CheckpointException {
    StateDict all = stateDict();
    String prefix = attribute + ".";
    try (StateDict under = all.filter(k -> k.startsWith(prefix))) {
      if (under.size() == 0) {
        List<String> firsts = new ArrayList<>();
        for (String k : all.keys()) {
          String first = k.contains(".") ? k.substring(0, k.indexOf('.')) : "";
          if (!first.isEmpty() && !firsts.contains(first)) firsts.add(first);
        }
        throw new CheckpointException(Kind.STATE_DICT_MISMATCH, "the Lightning checkpoint's"
            + " state_dict has no key under '" + prefix + "' (its keys start with " + firsts
            + "): call model(name) with the attribute the LightningModule holds its network in,"
            + " or use stateDict() for every key");
      }
      return under.stripPrefix(prefix);
    }
  }

  /** {@code ckpt["optimizer_states"]}: one state dict per optimizer (read-only; empty if none). */
  @SuppressWarnings("unchecked")
  public List<OptimizerStateDict> optimizerStates() {
    ensureOpen();
    return entries.get(OPTIMIZER_STATES) instanceof List<?> l
        ? Collections.unmodifiableList((List<OptimizerStateDict>) l) : List.of();
  }

  /** {@code ckpt["lr_schedulers"]}: one scheduler state dict per scheduler (empty if none). */
  @SuppressWarnings("unchecked")
  public List<Map<String, Object>> lrSchedulers() {
    ensureOpen();
    return entries.get(LR_SCHEDULERS) instanceof List<?> l
        ? Collections.unmodifiableList((List<Map<String, Object>>) l) : List.of();
  }

  /** {@code ckpt["epoch"]}. @throws CheckpointException when there is none or it is no int */
  public long epoch() throws CheckpointException {
    ensureOpen();
    return PyValues.toLong(PyValues.require(entries, EPOCH, "the Lightning checkpoint"), "'epoch'");
  }

  /** {@code ckpt["global_step"]}. @throws CheckpointException when there is none or no int */
  public long globalStep() throws CheckpointException {
    ensureOpen();
    return PyValues.toLong(PyValues.require(entries, GLOBAL_STEP, "the Lightning checkpoint"),
        "'global_step'");
  }

  /** {@code ckpt["pytorch-lightning_version"]}, or null. */
  public String lightningVersion() {
    ensureOpen();
    return entries.get(VERSION) instanceof String s ? s : null;
  }

  /** {@code ckpt["hyper_parameters"]} as a map (a Namespace's attributes too), or null. */
  @SuppressWarnings("unchecked")
  public Map<String, Object> hyperParameters() {
    ensureOpen();
    return entries.get(HYPER_PARAMETERS) instanceof Map<?, ?> m ? (Map<String, Object>) m : null;
  }

  // ---- setters (each takes over what it is given)

  /** The LightningModule's whole state_dict, keys as Lightning would save them. */
  public LightningCheckpoint stateDict(StateDict stateDict) {
    return replace(STATE_DICT, stateDict);
  }

  /**
   * The network's own state_dict, saved under {@code attribute + "."} as a LightningModule that
   * holds it as {@code self.<attribute>} saves it ({@code network} is closed here).
   */
  public LightningCheckpoint model(StateDict network, String attribute) {
    StateDict prefixed = network.addPrefix(attribute + ".");
    network.close();
    return replace(STATE_DICT, prefixed);
  }

  public LightningCheckpoint optimizerStates(List<OptimizerStateDict> states) {
    return replace(OPTIMIZER_STATES, new ArrayList<>(states));
  }

  public LightningCheckpoint lrSchedulers(List<? extends Map<String, Object>> states) {
    List<Map<String, Object>> copy = new ArrayList<>();
    for (Map<String, Object> s : states) copy.add(new LinkedHashMap<>(s));
    return replace(LR_SCHEDULERS, copy);
  }

  public LightningCheckpoint epoch(long epoch) {
    return replace(EPOCH, epoch);
  }

  public LightningCheckpoint globalStep(long globalStep) {
    return replace(GLOBAL_STEP, globalStep);
  }

  public LightningCheckpoint hyperParameters(Map<String, Object> hyperParameters) {
    return replace(HYPER_PARAMETERS, new LinkedHashMap<>(hyperParameters));
  }

  /** Another entry (a tree of checkpoint values); its tensors stay the caller's. */
  public LightningCheckpoint put(String key, Object value) {
    return replace(key, value);
  }

  private LightningCheckpoint replace(String key, Object value) {
    replaceEntry(key, value);
    return this;
  }

  // ---- saving

  /** {@link #save(Path, SaveOptions)} with {@link SaveOptions#defaults()}. */
  public void save(Path path) throws CheckpointException {
    save(path, SaveOptions.defaults());
  }

  /** {@code torch.save(checkpoint, path)} of {@link #toPython()}. */
  public void save(Path path, SaveOptions options) throws CheckpointException {
    TorchSaver.save(path, toPython(), options);
  }

  /**
   * The dict Lightning's {@code dump_checkpoint} would return: its entries in Lightning's order
   * ({@code epoch, global_step, pytorch-lightning_version, state_dict, loops, callbacks,
   * optimizer_states, lr_schedulers}), then the others as held. Shares this checkpoint's tensors.
   */
  public LinkedHashMap<String, Object> toPython() throws CheckpointException {
    ensureOpen();
    List<String> keys = new ArrayList<>();
    for (String k : ORDER) if (entries.containsKey(k)) keys.add(k);
    for (String k : entries.keySet()) if (!keys.contains(k)) keys.add(k);
    LinkedHashMap<String, Object> out = new LinkedHashMap<>();
    for (String k : keys) {
      out.put(k, pythonValue(entries.get(k)));
    }
    return out;
  }

  @Override
  void closeTyped(String key, Object value) {
    if (OPTIMIZER_STATES.equals(key) && value instanceof List<?> l) {
      l.forEach(CheckpointEntries::closeTyped);
    } else {
      closeTyped(value);
    }
  }

  private static CheckpointException missing(String key) {
    return new CheckpointException(Kind.NOT_FOUND, "the Lightning checkpoint has no '" + key
        + "' entry");
  }

  @Override
  protected String resourceName() {
    return "the Lightning checkpoint";
  }
}
