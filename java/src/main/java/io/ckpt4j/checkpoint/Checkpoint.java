package io.ckpt4j.checkpoint;

import io.ckpt4j.CheckpointException;
import io.ckpt4j.CheckpointException.Kind;
import io.ckpt4j.checkpoint.optim.OptimizerStateDict;
import io.ckpt4j.distributed.ProcessGroup;
import io.ckpt4j.distributed.RankZero;
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
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A training checkpoint as Python's training scripts save it:
 * <pre>{@code
 * torch.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(),
 *             "lr_scheduler": lr_scheduler.state_dict(), "epoch": epoch, "args": args}, path)
 * }</pre>
 * plus any other entries ({@code torch.get_rng_state()}, {@code scaler}, {@code best_acc1}, ...),
 * which are kept as they are, in their order.
 *
 * <p>Resuming a Python run in Java:
 * <pre>{@code
 * LoadOptions options = LoadOptions.defaults().mapLocation("cpu")
 *     .allowGlobals("argparse.Namespace");
 * try (Checkpoint ckpt = Checkpoint.load(path, options)) {
 *   ckpt.model().loadInto(module, LoadStateDictOptions.defaults().fixModulePrefix(true));
 *   optimizer.loadStateDict(ckpt.optimizer());      // io.ckpt4j.checkpoint.optim
 *   scheduler.loadStateDict(ckpt.lrScheduler());    // io.ckpt4j.checkpoint.sched
 *   long startEpoch = ckpt.epoch() + 1;
 * }
 * }</pre>
 * and handing it back:
 * <pre>{@code
 * try (Checkpoint ckpt = Checkpoint.create()) {
 *   ckpt.model(StateDict.of(module)).optimizer(optimizer.stateDict())
 *       .lrScheduler(scheduler.stateDict()).epoch(epoch).args(args).save(path);
 * }
 * }</pre>
 *
 * <p>{@code args}: a dict, or a Python {@code argparse.Namespace} (read as its attributes when the
 * caller allows the class: {@code LoadOptions.allowGlobals("argparse.Namespace")}). It is written
 * as a plain dict by default ({@link ArgsFormat#DICT}), which {@code torch.load} reads with
 * {@code weights_only=True}; {@link ArgsFormat#NAMESPACE} writes a Namespace, which Python then
 * loads only after {@code torch.serialization.add_safe_globals([argparse.Namespace])} (or with
 * {@code weights_only=False}).
 *
 * <p>Owns its tensors: the setters take over what they are given (a value replaced is closed),
 * {@link #close()} releases everything; twice is harmless. Not thread-safe.
 */
public final class Checkpoint extends CheckpointEntries {
  public static final String MODEL = "model";
  public static final String OPTIMIZER = "optimizer";
  public static final String LR_SCHEDULER = "lr_scheduler";
  public static final String EPOCH = "epoch";
  public static final String ARGS = "args";

  /** How {@code args} is written. */
  public enum ArgsFormat {
    /** A plain dict: {@code torch.load(weights_only=True)} reads it. */
    DICT,
    /**
     * An {@code argparse.Namespace}, as the tutorial's scripts save it: Python needs
     * {@code torch.serialization.add_safe_globals([argparse.Namespace])} to load it.
     */
    NAMESPACE
  }

  private boolean argsWasNamespace;

  private Checkpoint() {}

  /** An empty checkpoint, to fill with the setters and {@link #save}. */
  public static Checkpoint create() {
    return new Checkpoint();
  }

  /** {@code torch.load(path)} of a training checkpoint, with {@link LoadOptions#defaults()}. */
  public static Checkpoint load(Path path) throws CheckpointException {
    return load(path, LoadOptions.defaults());
  }

  /**
   * {@code torch.load(path, map_location=...)} of a training checkpoint: the root must be a dict
   * with str keys. Its {@code model} becomes a {@link StateDict}, its {@code optimizer} an
   * {@link OptimizerStateDict}, its {@code lr_scheduler} and {@code args} maps, the other entries
   * trees with LibTorch tensors; all of them outlive the file (nothing stays open).
   *
   * @throws CheckpointException when the file cannot be read, or an entry is not what a training
   *     checkpoint holds under its name (one line naming the entry)
   */
  public static Checkpoint load(Path path, LoadOptions options) throws CheckpointException {
    try (LoadedCheckpoint loaded = CheckpointLoader.load(path, options)) {
      return from(loaded);
    }
  }

  /** The training checkpoint in an already loaded file (which may be closed afterwards). */
  public static Checkpoint from(LoadedCheckpoint loaded) throws CheckpointException {
    Object root = loaded.root();
    String where = "the checkpoint " + loaded.path();
    if (!(root instanceof Map<?, ?> map)) {
      throw new CheckpointException(Kind.WRONG_LOADER,
          where + " holds " + PythonTypes.name(root) + ", not a dict:"
          + " it is no training checkpoint (read any checkpoint with CheckpointLoader.load)");
    }
    Checkpoint ckpt = new Checkpoint();
    try {
      for (Map.Entry<?, ?> e : map.entrySet()) {
        String key = PyValues.toStr(e.getKey(), where + ": a top-level key");
        ckpt.entries.put(key, ckpt.read(key, e.getValue(), loaded, where));
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
      case MODEL:
        return StateDict.fromTree(value, loaded);
      case OPTIMIZER:
        return OptimizerStateDict.fromTree(value, loaded);
      case LR_SCHEDULER: {
        Object tree = TensorTrees.materialize(value, loaded, owned);
        String at = where + " 'lr_scheduler'";
        return stringKeyed(PyValues.toMap(tree, at), at);
      }
      case ARGS: {
        Object tree = TensorTrees.materialize(value, loaded, owned);
        if (Namespaces.isNamespace(tree)) {
          argsWasNamespace = true;
          return Namespaces.attributes((PyObject) tree, where + " 'args'");
        }
        if (tree instanceof Map<?, ?> m) return stringKeyed(m, where + " 'args'");
        return tree; // another object: kept as it is
      }
      default:
        return TensorTrees.materialize(value, loaded, owned);
    }
  }

  static LinkedHashMap<String, Object> stringKeyed(Map<?, ?> map, String where)
      throws CheckpointException {
    LinkedHashMap<String, Object> out = new LinkedHashMap<>();
    for (Map.Entry<?, ?> e : map.entrySet()) {
      out.put(PyValues.toStr(e.getKey(), where + " key"), e.getValue());
    }
    return out;
  }

  // ---- the known entries

  /** {@code ckpt["model"]}: the model's state_dict, or null when there is none. */
  public StateDict model() {
    ensureOpen();
    return entries.get(MODEL) instanceof StateDict sd ? sd : null;
  }

  /** {@code ckpt["optimizer"]}, or null. */
  public OptimizerStateDict optimizer() {
    ensureOpen();
    return entries.get(OPTIMIZER) instanceof OptimizerStateDict o ? o : null;
  }

  /** {@code ckpt["lr_scheduler"]}: the scheduler's state_dict as Python values, or null. */
  @SuppressWarnings("unchecked")
  public Map<String, Object> lrScheduler() {
    ensureOpen();
    return entries.get(LR_SCHEDULER) instanceof Map<?, ?> m ? (Map<String, Object>) m : null;
  }

  /**
   * {@code ckpt["epoch"]} as a long.
   *
   * @throws CheckpointException when there is none or it is not an int
   */
  public long epoch() throws CheckpointException {
    ensureOpen();
    return PyValues.toLong(PyValues.require(entries, EPOCH, "the checkpoint"), "'epoch'");
  }

  /** {@code ckpt["args"]} as a map of its attributes (a Namespace's too), or null. */
  @SuppressWarnings("unchecked")
  public Map<String, Object> args() {
    ensureOpen();
    return entries.get(ARGS) instanceof Map<?, ?> m ? (Map<String, Object>) m : null;
  }

  /** Whether the loaded {@code args} was an {@code argparse.Namespace}. */
  public boolean argsWasNamespace() {
    return argsWasNamespace;
  }

  public Checkpoint model(StateDict model) {
    return replace(MODEL, model);
  }

  public Checkpoint optimizer(OptimizerStateDict optimizer) {
    return replace(OPTIMIZER, optimizer);
  }

  public Checkpoint lrScheduler(Map<String, Object> lrScheduler) {
    return replace(LR_SCHEDULER, new LinkedHashMap<>(lrScheduler));
  }

  public Checkpoint epoch(long epoch) {
    return replace(EPOCH, epoch);
  }

  public Checkpoint args(Map<String, Object> args) {
    return replace(ARGS, new LinkedHashMap<>(args));
  }

  /**
   * Puts another entry (a tree of checkpoint values: dicts, lists, PyTuples, scalars, LibTorch
   * tensors, {@link io.ckpt4j.save.Parameter}s). Its tensors stay the caller's.
   */
  public Checkpoint put(String key, Object value) {
    return replace(key, value);
  }

  private Checkpoint replace(String key, Object value) {
    replaceEntry(key, value);
    return this;
  }

  // ---- saving

  /** Writes the checkpoint with {@code args} as a dict ({@link ArgsFormat#DICT}). */
  public void save(Path path) throws CheckpointException {
    save(path, SaveOptions.defaults(), ArgsFormat.DICT);
  }

  /**
   * {@code torch.save(checkpoint_dict, path)}: every entry in order, the state dicts as Python
   * holds them, {@code args} as {@code argsFormat} says.
   */
  public void save(Path path, SaveOptions options, ArgsFormat argsFormat)
      throws CheckpointException {
    TorchSaver.save(path, toPython(argsFormat), options);
  }

  /**
   * The save of a distributed job, Python's {@code if dist.get_rank() == 0: torch.save(ckpt,
   * path)} then {@code dist.barrier()}: rank 0 writes (as {@link #save(Path)}), every rank
   * returns once the file is in place and fails when rank 0 could not write it
   * ({@link RankZero}). Every rank calls it; the others' entries are not written (DDP replicas
   * hold the same).
   */
  public void save(Path path, ProcessGroup group) throws CheckpointException {
    RankZero.run(group, "save " + path, () -> save(path));
  }

  /**
   * The dict {@code torch.save} would be given: {@code model} an OrderedDict with
   * {@code _metadata}, {@code optimizer} a dict, the rest as held. Shares this checkpoint's
   * tensors: keep it open while the dict is used.
   */
  public LinkedHashMap<String, Object> toPython(ArgsFormat argsFormat) throws CheckpointException {
    ensureOpen();
    LinkedHashMap<String, Object> out = new LinkedHashMap<>();
    for (Map.Entry<String, Object> e : entries.entrySet()) {
      Object v = e.getValue();
      if (ARGS.equals(e.getKey()) && v instanceof Map<?, ?> m
          && argsFormat == ArgsFormat.NAMESPACE) {
        v = Namespaces.of(stringKeyed(m, "args"));
      }
      out.put(e.getKey(), pythonValue(v));
    }
    return out;
  }

  @Override
  void closeTyped(String key, Object value) {
    closeTyped(value);
  }

  @Override
  protected String resourceName() {
    return "the checkpoint";
  }
}
