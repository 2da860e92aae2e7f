package io.ckpt4j.checkpoint.optim;

import io.ckpt4j.CheckpointException;
import io.ckpt4j.CheckpointException.Kind;
import io.ckpt4j.value.PyValues;
import io.ckpt4j.value.PythonTypes;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.MemoryFormatOptional;
import org.bytedeco.pytorch.Tensor;

/**
 * A {@code torch.optim} optimizer in Java: Python's param groups and per-parameter state, its
 * {@code state_dict()} / {@code load_state_dict()}, and (in the subclasses) its update, computed
 * with LibTorch tensor ops in the same order as Python 2.13's single-tensor ({@code foreach=False})
 * implementation, so that a run resumed here continues as it would have in Python.
 *
 * <p>Parameters are numbered as Python numbers them: across the groups, in order. Build the
 * optimizer over the parameters in Python's {@code model.parameters()} order (a LibTorch module
 * registered in the same order as the Python model gives it from {@code parameters()}).
 *
 * <p>Owns its state tensors and its references to the parameters; {@link #close()} releases them
 * (twice is harmless). Not thread-safe.
 */
public abstract class Optimizer extends AbstractOptimizer {
  private final LinkedHashMap<Integer, LinkedHashMap<String, Object>> state = new LinkedHashMap<>();

  /**
   * Python's {@code Optimizer.__init__(params, defaults)}: each group gets the defaults it does
   * not set itself, in the defaults' order after its own keys.
   *
   * @param name the Python class name, for messages ("SGD")
   */
  protected Optimizer(String name, List<ParamGroup> groups, Map<String, Object> defaults) {
    super(name, groups, defaults);
  }

  /** One optimization step over the parameters that have a gradient, as Python's {@code step()}. */
  public final void step() {
    ensureOpen();
    try (PointerScope scope = new PointerScope();
        org.bytedeco.pytorch.NoGradGuard noGrad = new org.bytedeco.pytorch.NoGradGuard()) {
      int index = 0;
      for (ParamGroup group : paramGroups()) {
        update(group, index);
        index += group.params().size();
      }
    }
  }

  /**
   * The update of one group whose first parameter has index {@code firstIndex}; runs inside a
   * {@link PointerScope} with gradients off. State tensors it makes must be {@link #keep kept}.
   */
  protected abstract void update(ParamGroup group, int firstIndex);

  /** The update of one parameter that has a gradient. */
  @FunctionalInterface
  protected interface ParamUpdate {
    /**
     * Updates {@code param} (and its state) from {@code grad}.
     *
     * @param index the parameter's index, as Python numbers it
     * @param param the parameter
     * @param grad its gradient, negated when the group has {@code maximize}
     */
    void apply(int index, Tensor param, Tensor grad);
  }

  /**
   * The loop of Python's single-tensor updates over a group: {@code update} for each parameter
   * that has a gradient, in order, with the gradient negated when the group has {@code maximize}.
   */
  protected final void forEachGradient(ParamGroup group, int firstIndex, ParamUpdate update) {
    boolean maximize = flag(group, "maximize");
    List<Tensor> params = group.params();
    for (int i = 0; i < params.size(); i++) {
      Tensor p = params.get(i);
      Tensor grad = p.grad();
      if (!grad.defined()) continue;
      update.apply(firstIndex + i, p, maximize ? grad.neg() : grad);
    }
  }

  /** Python's {@code zero_grad()} ({@code set_to_none=True}): every gradient becomes undefined. */
  public void zeroGrad() {
    ensureOpen();
    try (PointerScope scope = new PointerScope()) {
      for (Tensor p : parameters()) {
        Tensor grad = p.mutable_grad();
        if (grad.defined()) grad.put(new Tensor());
      }
    }
  }

  /** The state of parameter {@code index}, made empty on first use (Python's defaultdict). */
  protected final Map<String, Object> state(int index) {
    return state.computeIfAbsent(index, k -> new LinkedHashMap<>());
  }

  /** Whether parameter {@code index} has any state yet. */
  protected final boolean hasState(int index) {
    LinkedHashMap<String, Object> s = state.get(index);
    return s != null && !s.isEmpty();
  }

  /**
   * Takes a reference to {@code t} for the optimizer's state: it outlives the {@link PointerScope}
   * it was made in (which releases only its own reference), and {@link #close()} releases this one.
   */
  protected static Tensor keep(Tensor t) {
    return t.retainReference();
  }

  /** A hyper-parameter validated at load / construction, as a double. */
  protected static double number(ParamGroup group, String key) {
    try {
      return group.getDouble(key);
    } catch (CheckpointException e) {
      throw new IllegalStateException(e.getMessage(), e);
    }
  }

  /** A bool hyper-parameter (absent: false). */
  protected static boolean flag(ParamGroup group, String key) {
    try {
      return group.getBoolean(key);
    } catch (CheckpointException e) {
      throw new IllegalStateException(e.getMessage(), e);
    }
  }

  // ---- state_dict

  /**
   * Python's {@code optimizer.state_dict()}: the state by parameter index and the groups'
   * hyper-parameters with their {@code params} index lists. Shares this optimizer's state tensors
   * (new references); close it when written.
   */
  public OptimizerStateDict stateDict() {
    ensureOpen();
    LinkedHashMap<Long, LinkedHashMap<String, Object>> outState = new LinkedHashMap<>();
    List<Tensor> references = new ArrayList<>();
    for (Map.Entry<Integer, LinkedHashMap<String, Object>> e : state.entrySet()) {
      LinkedHashMap<String, Object> copy = new LinkedHashMap<>();
      for (Map.Entry<String, Object> v : e.getValue().entrySet()) {
        Object value = v.getValue();
        if (value instanceof Tensor t) {
          value = keep(new Tensor(t));
          references.add((Tensor) value);
        }
        copy.put(v.getKey(), value);
      }
      outState.put((long) e.getKey(), copy);
    }
    return new OptimizerStateDict(outState, packedGroups(), references);
  }

  /**
   * Python's {@code optimizer.load_state_dict(state_dict)}: the saved groups' hyper-parameters
   * replace this optimizer's, and each parameter takes the state saved for the parameter at the
   * same position. Floating state tensors are copied to the parameter's dtype and device
   * ({@code step} stays as saved; a numeric {@code step} of an old checkpoint becomes a 0-dim
   * float32 tensor, as Python's {@code __setstate__} does). The copies belong to this optimizer.
   *
   * @throws CheckpointException when the state dict does not fit: a different number of groups or
   *     of parameters in a group, a state tensor whose shape is not its parameter's, a state or
   *     hyper-parameter this optimizer's update needs that is missing or of the wrong type
   */
  public void loadStateDict(OptimizerStateDict stateDict) throws CheckpointException {
    ensureOpen();
    List<ParamGroup> groups = paramGroups();
    List<Map<String, Object>> saved = stateDict.paramGroups();
    Map<Long, Integer> idMap = StateDictFit.positions(stateDict, groups, name());
    List<Map<String, Object>> newOptions = new ArrayList<>();
    for (int g = 0; g < groups.size(); g++) {
      LinkedHashMap<String, Object> options = new LinkedHashMap<>(saved.get(g));
      options.remove(ParamGroup.PARAMS);
      completeOptions(options);
      checkOptions(options, "param group " + g + " of the optimizer state_dict");
      newOptions.add(options);
    }
    LinkedHashMap<Integer, LinkedHashMap<String, Object>> newState = new LinkedHashMap<>();
    try {
      for (Map.Entry<Long, Map<String, Object>> e : stateDict.state().entrySet()) {
        int target = idMap.get(e.getKey());
        newState.put(target, castState(target, e.getValue()));
      }
      for (Map.Entry<Integer, LinkedHashMap<String, Object>> e : newState.entrySet()) {
        if (e.getValue().isEmpty()) continue; // a parameter not stepped yet: fits any optimizer
        ParamGroup group = groupOf(e.getKey());
        checkState(e.getKey(), e.getValue(), newOptions.get(groups.indexOf(group)));
      }
    } catch (CheckpointException | RuntimeException ex) {
      for (LinkedHashMap<String, Object> s : newState.values()) closeTensors(s);
      throw ex;
    }
    for (int g = 0; g < groups.size(); g++) groups.get(g).replaceOptions(newOptions.get(g));
    for (LinkedHashMap<String, Object> s : state.values()) closeTensors(s);
    state.clear();
    state.putAll(newState);
  }

  /** Python's {@code __setstate__}: fills group keys older checkpoints lack. */
  protected abstract void completeOptions(Map<String, Object> options);

  /** Checks the hyper-parameters the update reads; {@code where} names the group. */
  protected abstract void checkOptions(Map<String, Object> options, String where)
      throws CheckpointException;

  /** Checks the saved (non-empty) state of one parameter against what the update reads. */
  protected abstract void checkState(int index, Map<String, Object> state,
      Map<String, Object> options) throws CheckpointException;

  /** The state names that hold a number or 0-dim tensor, not a parameter-shaped tensor. */
  protected boolean isScalarState(String key) {
    return STEP.equals(key);
  }

  /** Python's name of the step count in the state of Adam, AdamW, RMSprop and Adagrad. */
  protected static final String STEP = "step";

  private LinkedHashMap<String, Object> castState(int index, Map<String, Object> saved)
      throws CheckpointException {
    Tensor param = parameters().get(index);
    LinkedHashMap<String, Object> out = new LinkedHashMap<>();
    try (PointerScope scope = new PointerScope()) {
      for (Map.Entry<String, Object> e : saved.entrySet()) {
        Object v = e.getValue();
        String key = e.getKey();
        if (v instanceof Tensor t) {
          if (!isScalarState(key)) {
            StateDictFit.checkShape(index, key, t, param);
            Tensor copy = param.is_floating_point()
                ? t.to(param.device(), param.scalar_type(), false, true, new MemoryFormatOptional())
                : t.to(param.device(), t.scalar_type(), false, true, new MemoryFormatOptional());
            out.put(key, keep(copy));
          } else {
            out.put(key, keep(t.clone()));
          }
        } else if (STEP.equals(key) && (v instanceof Long || v instanceof Double)) {
          out.put(key, keep(OptimMath.stepTensor(PyValues.toDouble(v, "step"))));
        } else {
          out.put(key, v);
        }
      }
    } catch (CheckpointException | RuntimeException ex) {
      closeTensors(out);
      throw ex;
    }
    return out;
  }

  /** The group parameter {@code index} belongs to. */
  protected final ParamGroup groupOf(int index) {
    int start = 0;
    for (ParamGroup g : paramGroups()) {
      if (index < start + g.params().size()) return g;
      start += g.params().size();
    }
    throw new IndexOutOfBoundsException("parameter " + index);
  }

  /** A one-line error for a saved state that lacks {@code key}. */
  protected final CheckpointException missingState(int index, String key) {
    return new CheckpointException(Kind.STATE_DICT_MISMATCH,
        "the optimizer state of parameter " + index + " has no '" + key
        + "': it was not saved by torch.optim." + name() + " with these hyper-parameters");
  }

  /** Requires {@code key} in {@code state} to be a tensor (of the parameter's shape, checked). */
  protected final void requireTensor(int index, Map<String, Object> state, String key)
      throws CheckpointException {
    if (!(state.get(key) instanceof Tensor)) {
      if (!state.containsKey(key)) throw missingState(index, key);
      throw new CheckpointException(Kind.INVALID_VALUE,
          "the optimizer state '" + key + "' of parameter " + index
          + " must be a tensor, not " + PythonTypes.name(state.get(key)));
    }
  }

  /**
   * Requires the {@code step} of Adam, AdamW, RMSprop and Adagrad in {@code state}, and a tensor
   * under each of {@code tensorKeys}.
   */
  protected final void requireSteppedState(int index, Map<String, Object> state,
      String... tensorKeys) throws CheckpointException {
    if (!state.containsKey(STEP)) throw missingState(index, STEP);
    for (String key : tensorKeys) requireTensor(index, state, key);
  }

  /** Requires every key of {@code keys} in the group {@code options}, as numbers. */
  protected static void requireNumbers(Map<String, Object> options, String where, String... keys)
      throws CheckpointException {
    for (String key : keys) {
      PyValues.toDouble(PyValues.require(options, key, where), where + " '" + key + "'");
    }
  }

  /** Requires every key of {@code keys} in the group {@code options}, as bools. */
  protected static void requireBooleans(Map<String, Object> options, String where, String... keys)
      throws CheckpointException {
    for (String key : keys) {
      PyValues.toBoolean(PyValues.require(options, key, where), where + " '" + key + "'");
    }
  }

  private static void closeTensors(Map<String, Object> s) {
    for (Object v : s.values()) if (v instanceof Tensor t) t.close();
  }

  @Override
  final void release() {
    for (LinkedHashMap<String, Object> s : state.values()) closeTensors(s);
    state.clear();
  }

  @Override
  public String toString() {
    return name() + "(" + paramGroups().size() + " param groups, " + parameters().size()
        + " parameters)";
  }
}
