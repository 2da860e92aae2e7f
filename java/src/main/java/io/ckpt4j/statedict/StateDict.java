package io.ckpt4j.statedict;

import io.ckpt4j.CheckpointException;
import io.ckpt4j.CheckpointException.Kind;
import io.ckpt4j.OwnedResource;
import io.ckpt4j.load.LoadedCheckpoint;
import io.ckpt4j.tensor.Devices;
import io.ckpt4j.tensor.ScalarTypes;
import io.ckpt4j.value.DType;
import io.ckpt4j.value.PyOrderedDict;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.function.Predicate;
import java.util.function.UnaryOperator;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.Module;
import org.bytedeco.pytorch.Tensor;

/**
 * A PyTorch {@code state_dict}: parameter and buffer names mapped to tensors, in order, with the
 * {@code _metadata} Python keeps beside them (module prefix → {@code {"version": N}}).
 *
 * <p>The one home of a state_dict's conversions, each done by one package-private class:
 * <ul>
 *   <li>in, from a LibTorch module: {@link #of} (Python's {@code model.state_dict()},
 *       {@link ModuleTree});
 *   <li>in, from a loaded file: {@link #from}, {@link #fromTree}, {@link #locate}
 *       ({@link StateDictSearch}), {@link #fromWholeModule} ({@link WholeModule}),
 *       {@link #extract} (either);
 *   <li>in, by hand: {@link #empty}, {@link #put};
 *   <li>out, into a module: {@link #loadInto} (Python's {@code model.load_state_dict(sd)},
 *       {@link StateDictLoader});
 *   <li>out, to Python's value for {@code torch.save}: {@link #toPython}.
 * </ul>
 *
 * <p>Owns one reference to each tensor it holds ({@code new Tensor(t)}); {@link #close()}
 * releases them, and a second close is harmless; any other use after close throws
 * {@link IllegalStateException} (see {@link OwnedResource}). The transformations
 * ({@link #stripPrefix}, {@link #rename}, {@link #filter}, ...) return new state_dicts holding
 * new references to the same tensors (no copies), each to be closed on its own; {@link #to} and
 * {@link #cast} make new tensors where the device or dtype changes. Not thread-safe.
 */
public final class StateDict extends OwnedResource {
  /** DataParallel / DDP prefix: the wrapper holds the model as {@code module}. */
  public static final String DATA_PARALLEL_PREFIX = "module.";
  /** torch.compile's prefix: an {@code OptimizedModule} keeps the model as {@code _orig_mod}. */
  public static final String COMPILE_PREFIX = "_orig_mod.";
  /** The prefixes Python's wrappers leave, in the order {@link #detectPrefixes} tries them. */
  public static final List<String> WRAPPER_PREFIXES = List.of(DATA_PARALLEL_PREFIX, COMPILE_PREFIX);
  /** The attribute of Python's state_dict OrderedDict that holds module versions. */
  public static final String METADATA_ATTRIBUTE = "_metadata";

  private final LinkedHashMap<String, Tensor> tensors = new LinkedHashMap<>();
  private Object metadata;

  private StateDict() {}

  /** A new, empty state_dict with no {@code _metadata}. */
  public static StateDict empty() {
    return new StateDict();
  }

  /**
   * Python's {@code module.state_dict()} for a LibTorch module: for each module, depth first in
   * registration order, its own parameters, then its own buffers, then each child's entries under
   * {@code childName.}; tensors detached (sharing memory with the module's); {@code _metadata}
   * with one entry per module. LibTorch has no non-persistent buffers, so every buffer is in
   * (BatchNorm's {@code num_batches_tracked} included); undefined parameters (a Linear without
   * bias) are left out, as Python leaves out {@code None}.
   */
  public static StateDict of(Module module) {
    return ModuleTree.stateDict(Objects.requireNonNull(module, "module"));
  }

  /**
   * The state_dict in a loaded checkpoint — a dict whose keys are all str and whose values are
   * all tensors. The search: the root, when it is one ({@code torch.save(model.state_dict())});
   * else, in the root dict, the first of the keys {@code state_dict}, {@code model_state_dict},
   * {@code model}, {@code net}, {@code network}, {@code module}, {@code model_state},
   * {@code weights}, {@code params} that holds one; else the one entry under another name that
   * holds one; else the same one level down (inside the dicts under those keys first).
   *
   * @throws CheckpointException when the checkpoint holds none, or several under unknown names
   */
  public static StateDict from(LoadedCheckpoint ckpt) throws CheckpointException {
    return fromTree(StateDictSearch.find(ckpt.root(), ckpt.path().toString()), ckpt);
  }

  /**
   * Where {@link #from} finds the state_dict in {@code ckpt}'s object tree: the dict itself (the
   * root, or an entry such as {@code model} or {@code state_dict}), for callers that replace it
   * in place (e.g. {@code ckpt4j convert --strip-prefix} keeps the rest of a checkpoint).
   */
  public static Object locate(LoadedCheckpoint ckpt) throws CheckpointException {
    return StateDictSearch.find(ckpt.root(), ckpt.path().toString());
  }

  /**
   * A state_dict from {@code tree}, a dict in {@code ckpt}'s object tree whose keys are str and
   * whose values are tensors; its {@code _metadata} is kept. The tensors are new references to
   * the checkpoint's (they outlive its close).
   */
  public static StateDict fromTree(Object tree, LoadedCheckpoint ckpt) throws CheckpointException {
    return StateDictSearch.materialize(tree, ckpt, "the state_dict in " + ckpt.path());
  }

  /**
   * Python's {@code model.state_dict()} for a whole pickled {@code nn.Module}
   * ({@code torch.save(model)}, DataParallel-wrapped too) read with
   * {@code LoadOptions.inertObjects(true)}, found at the root or inside the checkpoint, worked
   * out from the module tree without running anything: for each module depth first, its
   * parameters that are not None, its buffers that are not None nor non-persistent, then its
   * children; DataParallel's {@code module.} prefix comes from its child {@code module}.
   * {@code _metadata} versions are those of torch's classes (2 for batch and instance norms, 1
   * otherwise, user classes included). What a class's own code would add — a
   * {@code get_extra_state} override, a custom {@code _save_to_state_dict}, state_dict hooks —
   * cannot be known without running it; quantized modules, which rely on that, are refused.
   * The tutorial's typo {@code torch.save(model.state_dict, PATH)} (a pickled bound method,
   * {@code getattr(model, 'state_dict')}, recorded and never called) gives its model's weights.
   */
  public static StateDict fromWholeModule(LoadedCheckpoint ckpt) throws CheckpointException {
    return WholeModule.stateDict(ckpt);
  }

  /**
   * What {@code ckpt4j convert --state-dict} writes: the state_dict of a whole pickled module
   * when the checkpoint is (or holds) one, else the state_dict it holds ({@link #from}).
   */
  public static StateDict extract(LoadedCheckpoint ckpt) throws CheckpointException {
    if (WholeModule.find(ckpt.root()) != null) return fromWholeModule(ckpt);
    return from(ckpt);
  }

  /** The keys, in order (read-only view). */
  public Set<String> keys() {
    ensureOpen();
    return Collections.unmodifiableSet(tensors.keySet());
  }

  /** The tensor under {@code key}, or null; it belongs to this state_dict. */
  public Tensor get(String key) {
    ensureOpen();
    return tensors.get(key);
  }

  public boolean containsKey(String key) {
    ensureOpen();
    return tensors.containsKey(key);
  }

  public int size() {
    ensureOpen();
    return tensors.size();
  }

  /** The entries, in order (read-only view); the tensors belong to this state_dict. */
  public Map<String, Tensor> asMap() {
    ensureOpen();
    return Collections.unmodifiableMap(tensors);
  }

  /**
   * Puts a new reference to {@code tensor} under {@code key} (the caller keeps its own); a tensor
   * already there is released. A new key goes last, as in a Python dict.
   */
  public StateDict put(String key, Tensor tensor) {
    Objects.requireNonNull(key, "key");
    Objects.requireNonNull(tensor, "tensor");
    ensureOpen();
    Tensor old = tensors.put(key, new Tensor(tensor));
    if (old != null) old.close();
    return this;
  }

  /** Removes and releases the tensor under {@code key}; true if there was one. */
  public boolean remove(String key) {
    ensureOpen();
    Tensor old = tensors.remove(key);
    if (old != null) old.close();
    return old != null;
  }

  /**
   * Python's {@code state_dict._metadata}: an ordered dict (a {@link PyOrderedDict} when read from
   * a file) of module prefix ({@code ""}, {@code "layer1.0"}) to {@code {"version": N}}; null when
   * there is none (a plain dict).
   */
  public Object metadata() {
    ensureOpen();
    return metadata;
  }

  public void setMetadata(Object metadata) {
    ensureOpen();
    this.metadata = metadata;
  }

  /** {@link #stripPrefix(String)} with {@code "module."}, DataParallel's prefix. */
  public StateDict stripPrefix() throws CheckpointException {
    return stripPrefix(DATA_PARALLEL_PREFIX);
  }

  /**
   * Python's {@code consume_prefix_in_state_dict_if_present(sd, prefix)}: keys that start with
   * {@code prefix} lose it (and move after the others, as Python re-inserts them), other keys stay;
   * {@code _metadata} entries are renamed the same way ({@code "module"} becomes {@code ""}).
   *
   * @throws CheckpointException when a stripped key collides with one already there
   */
  public StateDict stripPrefix(String prefix) throws CheckpointException {
    ensureOpen();
    List<String> kept = new ArrayList<>();
    List<String> stripped = new ArrayList<>();
    for (String key : tensors.keySet()) (key.startsWith(prefix) ? stripped : kept).add(key);
    StateDict out = new StateDict();
    for (String key : kept) out.tensors.put(key, new Tensor(tensors.get(key)));
    for (String key : stripped) {
      String renamed = key.substring(prefix.length());
      Tensor previous = out.tensors.put(renamed, new Tensor(tensors.get(key)));
      if (previous != null) {
        out.close();
        throw collision("stripping '" + prefix + "'", key, renamed);
      }
    }
    out.metadata = Metadata.stripPrefix(metadata, prefix);
    return out;
  }

  /** {@link #addPrefix(String)} with {@code "module."}: the keys a DataParallel wrapper has. */
  public StateDict addPrefix() {
    return addPrefix(DATA_PARALLEL_PREFIX);
  }

  /**
   * Every key gets {@code prefix} in front: the state_dict a wrapper holding this model under
   * {@code prefix} would give ({@code nn.DataParallel(model).state_dict()} for {@code "module."}).
   * {@code _metadata}, when there is one, gets the wrapper's own entry {@code ""} first, and the
   * model's entries renamed ({@code ""} becomes the prefix without its dot).
   */
  public StateDict addPrefix(String prefix) {
    ensureOpen();
    StateDict out = new StateDict();
    for (Map.Entry<String, Tensor> e : tensors.entrySet()) {
      out.tensors.put(prefix + e.getKey(), new Tensor(e.getValue()));
    }
    out.metadata = Metadata.addPrefix(metadata, prefix);
    return out;
  }

  /**
   * Each key renamed by {@code rule}, in order; {@code _metadata} is kept as it is.
   *
   * @throws CheckpointException when two keys get the same name
   */
  public StateDict rename(UnaryOperator<String> rule) throws CheckpointException {
    ensureOpen();
    StateDict out = new StateDict();
    for (Map.Entry<String, Tensor> e : tensors.entrySet()) {
      String renamed = Objects.requireNonNull(rule.apply(e.getKey()), "renamed key");
      if (out.tensors.containsKey(renamed)) {
        out.close();
        throw collision("renaming", e.getKey(), renamed);
      }
      out.tensors.put(renamed, new Tensor(e.getValue()));
    }
    out.metadata = Metadata.copy(metadata);
    return out;
  }

  /** The entries whose key {@code keep} accepts, in order, with the same {@code _metadata}. */
  public StateDict filter(Predicate<String> keep) {
    ensureOpen();
    StateDict out = new StateDict();
    for (Map.Entry<String, Tensor> e : tensors.entrySet()) {
      if (keep.test(e.getKey())) out.tensors.put(e.getKey(), new Tensor(e.getValue()));
    }
    out.metadata = Metadata.copy(metadata);
    return out;
  }

  /**
   * Every tensor on {@code device} ({@code "cpu"}, {@code "cuda:1"}), like Python's
   * {@code t.to(device)}: a tensor already there is shared, not copied.
   *
   * @throws CheckpointException when the device does not exist here
   */
  public StateDict to(String device) throws CheckpointException {
    ensureOpen();
    Device target = Devices.resolve(device, "moving the state_dict", "use cpu");
    StateDict out = new StateDict();
    try (target) {
      for (Map.Entry<String, Tensor> e : tensors.entrySet()) {
        Tensor t = e.getValue();
        out.tensors.put(e.getKey(), t.to(target, t.scalar_type()));
      }
    } catch (RuntimeException e) {
      out.close();
      throw new CheckpointException(Kind.NATIVE, "cannot move the state_dict to " + device + ": "
          + CheckpointException.firstLine(e), e);
    }
    out.metadata = Metadata.copy(metadata);
    return out;
  }

  /**
   * Floating-point tensors cast to {@code dtype}, the others shared as they are: what Python's
   * {@code model.half()} / {@code model.to(torch.bfloat16)} does to a model's state.
   *
   * @throws IllegalArgumentException when {@code dtype} is not a floating-point type
   */
  public StateDict cast(DType dtype) {
    ensureOpen();
    if (!isFloating(dtype)) {
      throw new IllegalArgumentException("cast needs a floating-point dtype, not " + dtype);
    }
    StateDict out = new StateDict();
    for (Map.Entry<String, Tensor> e : tensors.entrySet()) {
      Tensor t = e.getValue();
      out.tensors.put(e.getKey(),
          t.is_floating_point() ? t.to(ScalarTypes.of(dtype)) : new Tensor(t));
    }
    out.metadata = Metadata.copy(metadata);
    return out;
  }

  /**
   * The wrapper prefixes every key carries, outermost first: {@code ["module."]} for a
   * DataParallel / DDP model's weights, {@code ["_orig_mod."]} for a torch.compile'd one,
   * {@code ["_orig_mod.", "module."]} for both; empty when none (or no keys).
   */
  public List<String> detectPrefixes() {
    ensureOpen();
    return Prefixes.detect(tensors.keySet());
  }

  /** Python's {@code module.load_state_dict(sd)}: strict, by copy. */
  public IncompatibleKeys loadInto(Module module) throws CheckpointException {
    return loadInto(module, LoadStateDictOptions.defaults());
  }

  /**
   * Python's {@code module.load_state_dict(sd, strict, assign)}: loads this state_dict into
   * {@code module}, matching keys as Python does (see {@link StateDictMatch}). Everything is
   * checked before anything is written: a strict load with a missing or unexpected key, or any
   * load with a shape mismatch, fails with ONE exception listing all of them and leaves the
   * module as it was. Otherwise each matching tensor is copied into the module's own under
   * {@code NoGradGuard} ({@code param.copy_(t)}: the module keeps its device and dtype), or with
   * {@code assign} the module's parameter or buffer takes the tensor itself ({@code set_data}:
   * its storage, dtype and device; a parameter keeps its {@code requires_grad}).
   *
   * <p>Python's BatchNorm rule holds: a state_dict whose {@code _metadata} gives a batch or
   * instance norm a version below 2 (or none, e.g. no {@code _metadata}) may lack its
   * {@code num_batches_tracked}; the module then keeps its own.
   *
   * <pre>{@code
   * try (StateDict sd = StateDict.from(checkpoint)) {
   *   sd.loadInto(model);                                                   // strict=True
   *   IncompatibleKeys keys = sd.loadInto(model, LoadStateDictOptions.defaults().strict(false));
   * }
   * }</pre>
   *
   * @return the missing and unexpected keys (empty after a strict load)
   * @throws CheckpointException when keys do not match as above, or a copy fails
   */
  public IncompatibleKeys loadInto(Module module, LoadStateDictOptions options)
      throws CheckpointException {
    ensureOpen();
    return StateDictLoader.load(module, this, options);
  }

  /**
   * The state_dict as Python holds it, for saving: an OrderedDict of name → tensor (this
   * state_dict's references) with {@code _metadata} set when there is one.
   */
  public PyOrderedDict toPython() {
    ensureOpen();
    PyOrderedDict out = new PyOrderedDict();
    out.putAll(tensors);
    if (metadata != null) out.setAttribute(METADATA_ATTRIBUTE, metadata);
    return out;
  }

  /** Releases every tensor reference this state_dict holds (once: see {@link OwnedResource}). */
  @Override
  protected void releaseResources() {
    for (Tensor t : tensors.values()) t.close();
    tensors.clear();
  }

  @Override
  protected String resourceName() {
    return "the state_dict";
  }

  /** Puts {@code tensor} itself (already a reference this state_dict now owns). */
  void putOwned(String key, Tensor tensor) {
    Tensor old = tensors.put(key, tensor);
    if (old != null) old.close();
  }

  static boolean isFloating(DType dtype) {
    return switch (dtype) {
      case FLOAT64, FLOAT32, FLOAT16, BFLOAT16, FLOAT8_E4M3FN, FLOAT8_E5M2 -> true;
      default -> false;
    };
  }

  private static CheckpointException collision(String what, String key, String renamed) {
    return new CheckpointException(Kind.STATE_DICT_MISMATCH,
        what + " turns key '" + key + "' into '" + renamed
        + "', which the state_dict already has: remove one of them first (StateDict.filter)");
  }

  @Override
  public String toString() {
    return "StateDict(" + tensors.size() + " tensors" + (isClosed() ? ", closed" : "") + ")";
  }
}
