package io.ckpt4j.checkpoint.optim;

import io.ckpt4j.CheckpointException;
import io.ckpt4j.CheckpointException.Kind;
import io.ckpt4j.OwnedResource;
import io.ckpt4j.value.PyValues;
import io.ckpt4j.value.PythonTypes;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.MemoryFormatOptional;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;

/**
 * Python's {@code torch.optim.Optimizer} base in Java: the param groups, each completed with the
 * {@code defaults} it does not set; the parameters, numbered across the groups in order; the
 * per-parameter state; {@code state_dict()} / {@code load_state_dict()}; and the loop of the
 * single-tensor ({@code foreach=False}) updates over the parameters that have a gradient. A
 * subclass computes its update with LibTorch tensor ops in the same order as Python 2.13 does,
 * and says which state and hyper-parameters the update reads, so that a state dict that lacks
 * them is refused at load, not half-way through a step.
 */
public abstract class AbstractOptimizer extends OwnedResource implements Optimizer {
  /** Python's name of the step count in the state of Adam, AdamW, RMSprop and Adagrad. */
  protected static final String STEP = "step";

  private final String name;
  private final Map<String, Object> defaults;
  private final List<ParamGroup> groups;
  private final List<Tensor> params = new ArrayList<>();
  private final LinkedHashMap<Integer, LinkedHashMap<String, Object>> state = new LinkedHashMap<>();

  /**
   * Python's {@code Optimizer.__init__(params, defaults)}: each group gets the defaults it does
   * not set itself, in the defaults' order after its own keys.
   *
   * @param name the Python class name, for messages ("SGD")
   * @throws IllegalArgumentException when there is no group, or a parameter is in two groups
   */
  protected AbstractOptimizer(String name, List<ParamGroup> groups, Map<String, Object> defaults) {
    this.name = name;
    this.defaults = Collections.unmodifiableMap(new LinkedHashMap<>(defaults));
    if (groups.isEmpty()) {
      throw new IllegalArgumentException(name + " got an empty parameter list");
    }
    this.groups = List.copyOf(groups);
    Map<Long, Integer> seen = new HashMap<>();
    for (ParamGroup group : this.groups) {
      defaults.forEach(group::setDefault);
      for (Tensor p : group.params()) {
        long impl = p.unsafeGetTensorImpl().address();
        if (seen.put(impl, params.size()) != null) {
          throw new IllegalArgumentException(name + ": some parameters appear in more than one"
              + " parameter group");
        }
        params.add(p);
      }
    }
  }

  @Override
  public String name() {
    return name;
  }

  @Override
  public List<ParamGroup> paramGroups() {
    return groups;
  }

  @Override
  public Map<String, Object> defaults() {
    return defaults;
  }

  @Override
  public List<Tensor> parameters() {
    return Collections.unmodifiableList(params);
  }

  // ---- step

  @Override
  public final void step() {
    ensureOpen();
    try (PointerScope scope = new PointerScope(); NoGradGuard noGrad = new NoGradGuard()) {
      int index = 0;
      for (ParamGroup group : groups) {
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
    List<Tensor> groupParams = group.params();
    for (int i = 0; i < groupParams.size(); i++) {
      Tensor p = groupParams.get(i);
      Tensor grad = p.grad();
      if (!grad.defined()) continue;
      update.apply(firstIndex + i, p, maximize ? grad.neg() : grad);
    }
  }

  @Override
  public void zeroGrad() {
    ensureOpen();
    try (PointerScope scope = new PointerScope()) {
      for (Tensor p : params) {
        Tensor grad = p.mutable_grad();
        if (grad.defined()) grad.put(new Tensor());
      }
    }
  }

  /** The state of parameter {@code index}, made empty on first use (Python's defaultdict). */
  protected final Map<String, Object> state(int index) {
    return state.computeIfAbsent(index, k -> new LinkedHashMap<>());
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

  @Override
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

  /** {@code state_dict()["param_groups"]}: each group's hyper-parameters, its indices last. */
  private List<LinkedHashMap<String, Object>> packedGroups() {
    List<LinkedHashMap<String, Object>> out = new ArrayList<>();
    long index = 0;
    for (ParamGroup group : groups) {
      LinkedHashMap<String, Object> packed = new LinkedHashMap<>(group.options());
      List<Long> indices = new ArrayList<>();
      for (int i = 0; i < group.params().size(); i++) indices.add(index++);
      packed.put(ParamGroup.PARAMS, indices);
      out.add(packed);
    }
    return out;
  }

  /**
   * {@inheritDoc}
   *
   * <p>Floating state tensors are copied to the parameter's dtype and device ({@code step} stays
   * as saved; a numeric {@code step} of an old checkpoint becomes a 0-dim float32 tensor, as
   * Python's {@code __setstate__} does). The copies belong to this optimizer. Beyond Python's
   * checks (the number of groups, each group's size), each state tensor must have its
   * parameter's shape, and the state and hyper-parameters this optimizer's update reads must be
   * there with the right types.
   */
  @Override
  public void loadStateDict(OptimizerStateDict stateDict) throws CheckpointException {
    ensureOpen();
    List<Map<String, Object>> saved = stateDict.paramGroups();
    Map<Long, Integer> idMap = StateDictFit.positions(stateDict, groups, name);
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
        checkState(e.getKey(), e.getValue(), newOptions.get(groupOf(e.getKey())));
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

  private LinkedHashMap<String, Object> castState(int index, Map<String, Object> saved)
      throws CheckpointException {
    Tensor param = params.get(index);
    LinkedHashMap<String, Object> out = new LinkedHashMap<>();
    try (PointerScope scope = new PointerScope()) {
      for (Map.Entry<String, Object> e : saved.entrySet()) {
        Object v = e.getValue();
        String key = e.getKey();
        if (v instanceof Tensor t) {
          if (!STEP.equals(key)) {
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

  /** The index of the group parameter {@code index} belongs to. */
  private int groupOf(int index) {
    int start = 0;
    for (int g = 0; g < groups.size(); g++) {
      start += groups.get(g).params().size();
      if (index < start) return g;
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

  // ---- ownership

  /** Releases the state tensors and the parameter references (once: see OwnedResource). */
  @Override
  protected final void releaseResources() {
    for (LinkedHashMap<String, Object> s : state.values()) closeTensors(s);
    state.clear();
    for (ParamGroup g : groups) g.close();
  }

  @Override
  protected String resourceName() {
    return "the " + name + " optimizer";
  }

  @Override
  public String toString() {
    return name + "(" + groups.size() + " param groups, " + params.size() + " parameters)";
  }
}
