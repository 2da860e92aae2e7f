package io.ckpt4j.checkpoint.optim;

import io.ckpt4j.CheckpointException;
import io.ckpt4j.value.PyValues;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;

/**
 * One of Python's {@code optimizer.param_groups}: the parameters it updates and its
 * hyper-parameters ({@code lr}, {@code momentum}, {@code betas}, ...), in Python's key order, with
 * Python's value types ({@code Double}, {@code Long}, {@code Boolean}, {@code null}, a
 * {@link io.ckpt4j.value.PyTuple} for {@code betas}).
 *
 * <p>Made by hand before building an optimizer ({@code ParamGroup.of(params).set("lr", 0.003)},
 * Python's {@code {"params": ..., "lr": 0.003}}); the optimizer then adds its defaults for the
 * keys the group does not set, as Python's {@code add_param_group} does. LR schedulers read and
 * write the hyper-parameters ({@code lr}, {@code initial_lr}, {@code momentum}, ...).
 *
 * <p>Holds its own reference to each parameter tensor (the memory is the model's); the optimizer
 * that took the group releases them when it is closed.
 */
public final class ParamGroup {
  private final List<Tensor> params;
  private final LinkedHashMap<String, Object> options = new LinkedHashMap<>();

  private ParamGroup(List<Tensor> params) {
    this.params = params;
  }

  /** A group over {@code params} (new references to them), with no hyper-parameters yet. */
  public static ParamGroup of(List<Tensor> params) {
    List<Tensor> own = new ArrayList<>(params.size());
    for (Tensor p : params) own.add(new Tensor(Objects.requireNonNull(p, "parameter")));
    return new ParamGroup(own);
  }

  /**
   * A group over a LibTorch {@code module.parameters()} vector: new references to its tensors
   * (the vector's elements are copied while it is alive).
   */
  public static ParamGroup of(TensorVector params) {
    List<Tensor> own = new ArrayList<>();
    for (long i = 0; i < params.size(); i++) own.add(new Tensor(params.get(i)));
    java.lang.ref.Reference.reachabilityFence(params);
    return new ParamGroup(own);
  }

  /** Sets a hyper-parameter of this group (before building the optimizer: Python's group keys). */
  public ParamGroup set(String key, Object value) {
    put(key, value);
    return this;
  }

  /** The parameters, in the group's order (read-only; the tensors are the model's). */
  public List<Tensor> params() {
    return Collections.unmodifiableList(params);
  }

  /** The hyper-parameters, in Python's key order, without {@code params} (read-only view). */
  public Map<String, Object> options() {
    return Collections.unmodifiableMap(options);
  }

  public boolean containsKey(String key) {
    return options.containsKey(key);
  }

  /** The value under {@code key} (null also when absent: see {@link #containsKey}). */
  public Object get(String key) {
    return options.get(key);
  }

  /** Sets {@code key}; a new key goes last, as in a Python dict. */
  public void put(String key, Object value) {
    Objects.requireNonNull(key, "key");
    if (key.equals(PARAMS)) {
      throw new IllegalArgumentException("'params' is not a hyper-parameter: make a new group");
    }
    options.put(key, value);
  }

  /** Python's {@code group.setdefault(key, value)} (a null value, Python's None, is set too). */
  public Object setDefault(String key, Object value) {
    if (!options.containsKey(key)) options.put(key, value);
    return options.get(key);
  }

  /** The number under {@code key}; fails with a one-line message when absent or not a number. */
  public double getDouble(String key) throws CheckpointException {
    return PyValues.toDouble(PyValues.require(options, key, "the param group"),
        "param group '" + key + "'");
  }

  /** The bool under {@code key}; an absent key is {@code false} (Python's setdefault). */
  public boolean getBoolean(String key) throws CheckpointException {
    Object v = options.get(key);
    return v != null && PyValues.toBoolean(v, "param group '" + key + "'");
  }

  /** {@code group["lr"]}. */
  public double lr() throws CheckpointException {
    return getDouble(LR);
  }

  /** {@code group["lr"] = lr}. */
  public void setLr(double lr) {
    options.put(LR, lr);
  }

  /** The key of the learning rate. */
  public static final String LR = "lr";
  /** The key Python's state_dict gives the parameter indices of a group. */
  public static final String PARAMS = "params";

  /** Replaces every hyper-parameter by {@code saved}'s (Python's load_state_dict update_group). */
  void replaceOptions(Map<String, Object> saved) {
    options.clear();
    options.putAll(saved);
  }

  void close() {
    for (Tensor p : params) p.close();
  }

  @Override
  public String toString() {
    return "ParamGroup(" + params.size() + " params, " + options + ")";
  }
}
