package io.ckpt4j.checkpoint.optim;

import io.ckpt4j.CheckpointException;
import io.ckpt4j.OwnedResource;
import io.ckpt4j.load.LoadedCheckpoint;
import io.ckpt4j.load.TensorTrees;
import io.ckpt4j.value.PyValues;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.bytedeco.pytorch.Tensor;

/**
 * Python's {@code optimizer.state_dict()}: {@code {"state": {index: {name: value}},
 * "param_groups": [{hyper-parameters..., "params": [index, ...]}]}}, where an index is a
 * parameter's position in the optimizer (across groups, in order: Python's
 * {@code model.parameters()} order for the usual {@code Optimizer(model.parameters())}).
 *
 * <p>State values are LibTorch tensors ({@code momentum_buffer}, {@code exp_avg}, the 0-dim
 * float32 {@code step}, ...) or plain Python values; group values are Python values (see
 * {@link ParamGroup}). Read from a checkpoint with {@link #fromTree}, made by
 * {@link Optimizer#stateDict()}, written with {@link #toPython()}.
 *
 * <p>Owns one reference to each tensor it holds; {@link #close()} releases them (twice is
 * harmless). Tensors are shared with the optimizer that made it, as in Python: a state dict is a
 * view of the optimizer's state at the time, not a copy.
 */
public final class OptimizerStateDict extends OwnedResource {
  /** The top-level key of the per-parameter state. */
  public static final String STATE = "state";
  /** The top-level key of the param groups. */
  public static final String PARAM_GROUPS = "param_groups";

  private final LinkedHashMap<Long, LinkedHashMap<String, Object>> state;
  private final List<LinkedHashMap<String, Object>> paramGroups;
  /** The tensor references this state dict holds, each once. */
  private final List<Tensor> owned;

  OptimizerStateDict(LinkedHashMap<Long, LinkedHashMap<String, Object>> state,
      List<LinkedHashMap<String, Object>> paramGroups, List<Tensor> owned) {
    this.state = state;
    this.paramGroups = paramGroups;
    this.owned = owned;
  }

  /**
   * The optimizer state dict {@code tree} of a loaded checkpoint (e.g. {@code root["optimizer"]}),
   * its tensors new references to {@code ckpt}'s (they outlive its close).
   *
   * @throws CheckpointException when {@code tree} is not an optimizer state dict: one line naming
   *     the entry that is wrong
   */
  public static OptimizerStateDict fromTree(Object tree, LoadedCheckpoint ckpt)
      throws CheckpointException {
    List<Tensor> owned = new ArrayList<>();
    try {
      return fromPython(TensorTrees.materialize(tree, ckpt, owned), owned);
    } catch (CheckpointException | RuntimeException e) {
      owned.forEach(Tensor::close);
      throw e;
    }
  }

  /**
   * An optimizer state dict from a Python-shaped {@code tree} whose tensors are LibTorch tensors;
   * it takes over {@code owned}, the references it closes.
   */
  static OptimizerStateDict fromPython(Object tree, List<Tensor> owned) throws CheckpointException {
    String where = "the optimizer state_dict";
    Map<?, ?> root = PyValues.toMap(tree, where);
    Map<?, ?> rawState = PyValues.toMap(PyValues.require(root, STATE, where), where + "['state']");
    List<?> rawGroups = PyValues.toList(PyValues.require(root, PARAM_GROUPS, where),
        where + "['param_groups']");
    LinkedHashMap<Long, LinkedHashMap<String, Object>> state = new LinkedHashMap<>();
    for (Map.Entry<?, ?> e : rawState.entrySet()) {
      long index = PyValues.toLong(e.getKey(), where + "['state'] key");
      Map<?, ?> entry = PyValues.toMap(e.getValue(), where + "['state'][" + index + "]");
      state.put(index, stringKeys(entry, where + "['state'][" + index + "]"));
    }
    List<LinkedHashMap<String, Object>> groups = new ArrayList<>();
    for (int g = 0; g < rawGroups.size(); g++) {
      String gw = where + "['param_groups'][" + g + "]";
      LinkedHashMap<String, Object> group = stringKeys(PyValues.toMap(rawGroups.get(g), gw), gw);
      group.put(ParamGroup.PARAMS, PyValues.toLongs(PyValues.require(group, ParamGroup.PARAMS, gw),
          gw + "['params']"));
      groups.add(group);
    }
    return new OptimizerStateDict(state, groups, owned);
  }

  private static LinkedHashMap<String, Object> stringKeys(Map<?, ?> map, String where)
      throws CheckpointException {
    LinkedHashMap<String, Object> out = new LinkedHashMap<>();
    for (Map.Entry<?, ?> e : map.entrySet()) {
      out.put(PyValues.toStr(e.getKey(), where + " key"), e.getValue());
    }
    return out;
  }

  /** Per-parameter state by parameter index, in the saved order (read-only view). */
  public Map<Long, Map<String, Object>> state() {
    return Collections.unmodifiableMap(state);
  }

  /**
   * The param groups, each with its hyper-parameters and {@code params} (a {@code List<Long>} of
   * indices) last (read-only view).
   */
  public List<Map<String, Object>> paramGroups() {
    return Collections.unmodifiableList(paramGroups);
  }

  /** The indices of group {@code g}'s parameters. */
  @SuppressWarnings("unchecked")
  public List<Long> groupParams(int g) {
    return (List<Long>) paramGroups.get(g).get(ParamGroup.PARAMS);
  }

  /** How many parameters the groups list (Python's {@code len(chain(g["params"] ...))}). */
  public int parameterCount() {
    int n = 0;
    for (int g = 0; g < paramGroups.size(); g++) n += groupParams(g).size();
    return n;
  }

  /**
   * The state dict as Python holds it, for saving: {@code {"state": {...}, "param_groups":
   * [...]}} with this state dict's tensors (no copies; keep this open until it is written).
   */
  public LinkedHashMap<String, Object> toPython() {
    ensureOpen();
    LinkedHashMap<Object, Object> outState = new LinkedHashMap<>();
    for (Map.Entry<Long, LinkedHashMap<String, Object>> e : state.entrySet()) {
      outState.put(e.getKey(), new LinkedHashMap<>(e.getValue()));
    }
    List<Object> outGroups = new ArrayList<>();
    for (LinkedHashMap<String, Object> g : paramGroups) {
      LinkedHashMap<String, Object> copy = new LinkedHashMap<>(g);
      copy.put(ParamGroup.PARAMS, new ArrayList<>(groupParams(outGroups.size())));
      outGroups.add(copy);
    }
    LinkedHashMap<String, Object> out = new LinkedHashMap<>();
    out.put(STATE, outState);
    out.put(PARAM_GROUPS, outGroups);
    return out;
  }

  /** Releases the tensor references this state dict holds; a second close does nothing. */
  @Override
  protected void releaseResources() {
    for (Tensor t : owned) t.close();
    owned.clear();
    state.clear();
  }

  @Override
  protected String resourceName() {
    return "the optimizer state_dict";
  }

  @Override
  public String toString() {
    return "OptimizerStateDict(" + state.size() + " parameter states, " + paramGroups.size()
        + " param groups" + (isClosed() ? ", closed" : "") + ")";
  }
}
