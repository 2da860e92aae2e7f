package io.ckpt4j.checkpoint.optim;

import io.ckpt4j.CheckpointException;
import io.ckpt4j.value.PyValues;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.AdagradOptions;
import org.bytedeco.pytorch.AdamOptions;
import org.bytedeco.pytorch.AdamWOptions;
import org.bytedeco.pytorch.InputArchive;
import org.bytedeco.pytorch.OptimizerParamGroup;
import org.bytedeco.pytorch.OptimizerParamGroupVector;
import org.bytedeco.pytorch.OutputArchive;
import org.bytedeco.pytorch.RMSpropOptions;
import org.bytedeco.pytorch.SGDOptions;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;

/**
 * A LibTorch C++ optimizer ({@code torch::optim::SGD}, {@code Adam}, {@code AdamW},
 * {@code RMSprop}, {@code Adagrad} through the presets) that reads and writes Python's optimizer
 * state dict, and whose param groups LR schedulers drive as they drive a Python optimizer's.
 *
 * <p>Python's layout maps onto LibTorch's state one to one: the same state names per parameter
 * ({@code momentum_buffer}; {@code step}, {@code exp_avg}, {@code exp_avg_sq},
 * {@code max_exp_avg_sq}; {@code square_avg}, {@code grad_avg}; {@code sum}), Python's 0-dim
 * float32 {@code step} tensor to LibTorch's int64 and back, the hyper-parameters LibTorch has
 * to its options (Adam with {@code decoupled_weight_decay} is LibTorch's AdamW). Python's other
 * group keys ({@code initial_lr}, {@code maximize}, {@code foreach}, ...) are kept on the Java
 * side and written back. The state passes through LibTorch's own optimizer archives
 * ({@code Optimizer::save} / {@code load}), the only access the presets give to it; a
 * hyper-parameter a scheduler changed is handed over before the next step.
 *
 * <p>The updates are LibTorch's. SGD, Adagrad and plain RMSprop compute what Python computes;
 * Adam's and AdamW's first moment and centered RMSprop's {@code grad_avg} use
 * {@code mul_/add_} where Python uses {@code lerp_}, so a resumed run drifts from Python's by
 * float32 rounding (a few 1e-8 after 8 steps in the tests); the Java optimizers ({@link Adam},
 * {@link RMSprop}, ...) follow Python op for op. LibTorch has no {@code maximize},
 * {@code capturable} or {@code differentiable}: a group with one set is refused.
 *
 * <p>Owns the LibTorch optimizer; {@link #close()} releases it (twice is harmless).
 */
public final class LibTorchOptimizer extends AbstractOptimizer {
  /** The optimizers LibTorch has, with their option and state names (Python's names too). */
  public enum Kind {
    SGD("SGD", List.of("lr", "momentum", "dampening", "weight_decay"), List.of("nesterov"),
        List.of("momentum_buffer")),
    ADAM("Adam", List.of("lr", "eps", "weight_decay"), List.of("amsgrad"),
        List.of("exp_avg", "exp_avg_sq", "max_exp_avg_sq")),
    ADAMW("AdamW", List.of("lr", "eps", "weight_decay"), List.of("amsgrad"),
        List.of("exp_avg", "exp_avg_sq", "max_exp_avg_sq")),
    RMSPROP("RMSprop", List.of("lr", "alpha", "eps", "weight_decay", "momentum"),
        List.of("centered"), List.of("square_avg", "momentum_buffer", "grad_avg")),
    ADAGRAD("Adagrad", List.of("lr", "lr_decay", "weight_decay", "initial_accumulator_value",
        "eps"), List.of(), List.of("sum"));

    final String pythonName;
    final List<String> numbers;
    final List<String> flags;
    final List<String> tensors;

    Kind(String pythonName, List<String> numbers, List<String> flags, List<String> tensors) {
      this.pythonName = pythonName;
      this.numbers = numbers;
      this.flags = flags;
      this.tensors = tensors;
    }

    boolean hasStep() {
      return this != SGD;
    }

    boolean hasBetas() {
      return this == ADAM || this == ADAMW;
    }
  }

  private static final String BETAS = LibTorchStates.BETAS;
  private static final List<String> UNSUPPORTED_FLAGS = List.of("maximize", "capturable",
      "differentiable");

  private final Kind kind;
  private final org.bytedeco.pytorch.Optimizer optimizer;
  /** {@link #paramGroups()}. */
  private final List<ParamGroup> groups;
  private final LibTorchStates states;
  private List<Map<String, Object>> pushed = List.of();

  private LibTorchOptimizer(Kind kind, List<ParamGroup> groups, Map<String, Object> defaults) {
    super(kind.pythonName, groups, defaults);
    this.kind = kind;
    this.groups = paramGroups();
    OptimizerParamGroupVector nativeGroups = new OptimizerParamGroupVector();
    for (ParamGroup g : this.groups) {
      TensorVector v = new TensorVector();
      for (Tensor p : g.params()) v.push_back(p);
      nativeGroups.push_back(new OptimizerParamGroup(v));
    }
    this.states = new LibTorchStates(kind, this.groups, parameters());
    double lr = ((Number) defaults.get(ParamGroup.LR)).doubleValue();
    this.optimizer = switch (kind) {
      case SGD -> new org.bytedeco.pytorch.SGD(nativeGroups, new SGDOptions(lr));
      case ADAM -> new org.bytedeco.pytorch.Adam(nativeGroups, new AdamOptions(lr));
      case ADAMW -> new org.bytedeco.pytorch.AdamW(nativeGroups, new AdamWOptions(lr));
      case RMSPROP -> new org.bytedeco.pytorch.RMSprop(nativeGroups, new RMSpropOptions(lr));
      case ADAGRAD -> new org.bytedeco.pytorch.Adagrad(nativeGroups, new AdagradOptions(lr));
    };
    try {
      for (int g = 0; g < this.groups.size(); g++) {
        checkGroup(this.groups.get(g).options(), "param group " + g);
      }
      pushOptions();
      if (kind == Kind.ADAGRAD) initAdagradState();
    } catch (CheckpointException e) {
      optimizer.close();
      throw new IllegalArgumentException(e.getMessage(), e);
    }
  }

  /** {@code torch::optim::SGD} over one group, with Python's SGD options. */
  public static LibTorchOptimizer sgd(TensorVector params, SGD.Options options) {
    return sgd(List.of(ParamGroup.of(params)), options);
  }

  /** {@code torch::optim::SGD} with Python's param groups and SGD options. */
  public static LibTorchOptimizer sgd(List<ParamGroup> groups, SGD.Options options) {
    return new LibTorchOptimizer(Kind.SGD, groups, options.values);
  }

  /** {@code torch::optim::Adam} (AdamW when the options say {@code decoupled_weight_decay}). */
  public static LibTorchOptimizer adam(List<ParamGroup> groups, Adam.Options options) {
    boolean decoupled = Boolean.TRUE.equals(options.values.get("decoupled_weight_decay"));
    return new LibTorchOptimizer(decoupled ? Kind.ADAMW : Kind.ADAM, groups, options.values);
  }

  /** {@code torch::optim::AdamW}, with Python's AdamW options ({@link AdamW#options()}). */
  public static LibTorchOptimizer adamW(List<ParamGroup> groups, Adam.Options options) {
    return new LibTorchOptimizer(Kind.ADAMW, groups, options.decoupled().values);
  }

  /** {@code torch::optim::RMSprop}. */
  public static LibTorchOptimizer rmsprop(List<ParamGroup> groups, RMSprop.Options options) {
    return new LibTorchOptimizer(Kind.RMSPROP, groups, options.values);
  }

  /** {@code torch::optim::Adagrad}. */
  public static LibTorchOptimizer adagrad(List<ParamGroup> groups, Adagrad.Options options) {
    return new LibTorchOptimizer(Kind.ADAGRAD, groups, options.values);
  }

  public Kind kind() {
    return kind;
  }

  /** The LibTorch optimizer (owned by this object). */
  public org.bytedeco.pytorch.Optimizer optimizer() {
    return optimizer;
  }

  /**
   * LibTorch's {@code step()}, after handing it the groups' hyper-parameters when something (an
   * LR scheduler) changed them.
   *
   * @throws CheckpointException when a group's hyper-parameter is of the wrong type or one LibTorch
   *     does not have ({@code maximize})
   */
  public void step() throws CheckpointException {
    ensureOpen();
    if (!snapshot().equals(pushed)) pushOptions();
    try (PointerScope scope = new PointerScope()) {
      optimizer.step();
    }
  }

  /** LibTorch's {@code zero_grad(set_to_none=true)}, Python's default. */
  public void zeroGrad() {
    ensureOpen();
    optimizer.zero_grad(true);
  }

  // ---- options

  private void checkGroup(Map<String, Object> options, String where) throws CheckpointException {
    Optimizer.requireNumbers(options, where, kind.numbers.toArray(new String[0]));
    Optimizer.requireBooleans(options, where, kind.flags.toArray(new String[0]));
    if (kind.hasBetas()) {
      List<Double> betas = PyValues.toDoubles(PyValues.require(options, BETAS, where),
          where + " 'betas'");
      if (betas.size() != 2) throw new CheckpointException(CheckpointException.Kind.INVALID_VALUE,
          where + " 'betas' must hold 2 numbers");
      boolean decoupled = Boolean.TRUE.equals(options.get("decoupled_weight_decay"));
      if (decoupled != (kind == Kind.ADAMW)) {
        throw new CheckpointException(CheckpointException.Kind.UNSUPPORTED_VALUE,
            where + " has decoupled_weight_decay=" + decoupled
            + ", which LibTorch's " + kind.pythonName + " does not do: use "
            + (decoupled ? "LibTorchOptimizer.adamW" : "LibTorchOptimizer.adam"));
      }
    }
    for (String flag : UNSUPPORTED_FLAGS) {
      Object v = options.get(flag);
      if (v != null && PyValues.toBoolean(v, where + " '" + flag + "'")) {
        throw new CheckpointException(CheckpointException.Kind.UNSUPPORTED_VALUE,
            where + " has " + flag + "=True, which LibTorch's "
            + kind.pythonName + " does not do: use the Java optimizer io.ckpt4j.checkpoint.optim."
            + kind.pythonName + " instead");
      }
    }
  }

  /** The values LibTorch holds, per group: what a change of must be pushed. */
  private List<Map<String, Object>> snapshot() {
    List<Map<String, Object>> out = new ArrayList<>();
    for (ParamGroup g : groups) {
      Map<String, Object> s = new HashMap<>();
      for (String k : kind.numbers) s.put(k, g.get(k));
      for (String k : kind.flags) s.put(k, g.get(k));
      if (kind.hasBetas()) s.put(BETAS, g.get(BETAS));
      out.add(s);
    }
    return out;
  }

  /** Hands every group's options to LibTorch through an archive with no state. */
  private void pushOptions() throws CheckpointException {
    for (int g = 0; g < groups.size(); g++) {
      checkGroup(groups.get(g).options(), "param group " + g);
    }
    try (PointerScope scope = new PointerScope()) {
      load(OptimArchives.inMemory(states.archive(Map.of())));
    }
    pushed = snapshot();
  }

  private void load(InputArchive in) throws CheckpointException {
    try {
      optimizer.load(in);
    } catch (RuntimeException e) {
      throw new CheckpointException(CheckpointException.Kind.NATIVE,
          "LibTorch's " + kind.pythonName + " refused the state: "
          + CheckpointException.firstLine(e), e);
    }
  }

  // ---- state_dict

  /**
   * Python's {@code optimizer.state_dict()} of the LibTorch optimizer: its state (read from its
   * archive, {@code step} as a 0-dim float32 tensor) under Python's parameter indices, and the
   * groups' hyper-parameters. The tensors are new, owned by the returned state dict.
   */
  public OptimizerStateDict stateDict() throws CheckpointException {
    ensureOpen();
    List<Tensor> made = new ArrayList<>();
    TreeMap<Integer, LinkedHashMap<String, Object>> byIndex;
    try (PointerScope scope = new PointerScope()) {
      OutputArchive out = new OutputArchive();
      optimizer.save(out);
      byIndex = states.read(OptimArchives.viaFile(out), made);
    } catch (CheckpointException | RuntimeException e) {
      made.forEach(Tensor::close);
      if (e instanceof CheckpointException c) throw c;
      throw new CheckpointException(CheckpointException.Kind.NATIVE,
          "cannot read the state of LibTorch's " + kind.pythonName
          + ": " + CheckpointException.firstLine(e), e);
    }
    LinkedHashMap<Long, LinkedHashMap<String, Object>> state = new LinkedHashMap<>();
    for (Map.Entry<Integer, LinkedHashMap<String, Object>> e : byIndex.entrySet()) {
      state.put((long) e.getKey(), e.getValue());
    }
    return new OptimizerStateDict(state, packedGroups(), made);
  }

  /**
   * Python's {@code optimizer.load_state_dict(state_dict)} into the LibTorch optimizer: the saved
   * groups' hyper-parameters replace the groups' (LibTorch gets those it has), each parameter
   * takes the state saved at its position (tensors cast to its dtype and device, {@code step} to
   * an int64).
   *
   * @throws CheckpointException on a different number of groups or group sizes, a state tensor
   *     whose shape is not its parameter's, a hyper-parameter LibTorch cannot honour
   */
  public void loadStateDict(OptimizerStateDict stateDict) throws CheckpointException {
    ensureOpen();
    Map<Long, Integer> idMap = StateDictFit.positions(stateDict, groups, kind.pythonName);
    List<Map<String, Object>> newOptions = new ArrayList<>();
    for (int g = 0; g < groups.size(); g++) {
      LinkedHashMap<String, Object> options = new LinkedHashMap<>(stateDict.paramGroups().get(g));
      options.remove(ParamGroup.PARAMS);
      if (kind == Kind.ADAMW) options.put("decoupled_weight_decay", true);
      checkGroup(options, "param group " + g + " of the optimizer state_dict");
      newOptions.add(options);
    }
    List<Map<String, Object>> old = new ArrayList<>();
    for (ParamGroup g : groups) old.add(new LinkedHashMap<>(g.options()));
    for (int g = 0; g < groups.size(); g++) groups.get(g).replaceOptions(newOptions.get(g));
    try {
      Map<Integer, Map<String, Object>> byIndex = new TreeMap<>();
      for (Map.Entry<Long, Map<String, Object>> e : stateDict.state().entrySet()) {
        byIndex.put(idMap.get(e.getKey()), e.getValue());
      }
      loadState(byIndex);
    } catch (CheckpointException | RuntimeException e) {
      for (int g = 0; g < groups.size(); g++) groups.get(g).replaceOptions(old.get(g));
      if (e instanceof CheckpointException c) throw c;
      throw new CheckpointException(CheckpointException.Kind.NATIVE,
          "LibTorch's " + kind.pythonName + " refused the state: "
          + CheckpointException.firstLine(e), e);
    }
    pushed = snapshot();
  }

  /**
   * Gives LibTorch the state of the parameters in {@code byIndex} (by position; an empty state is
   * skipped, so LibTorch keeps what it has) and every group's options, through its archive.
   */
  private void loadState(Map<Integer, Map<String, Object>> byIndex) throws CheckpointException {
    try (PointerScope scope = new PointerScope()) {
      load(OptimArchives.viaFile(states.archive(byIndex)));
    }
  }

  /**
   * Python's Adagrad state from construction: {@code step} 0 and {@code sum} filled with the
   * group's {@code initial_accumulator_value} (LibTorch's constructor fills every sum with its
   * defaults' value, before the groups' options are handed over).
   */
  private void initAdagradState() throws CheckpointException {
    Map<Integer, Map<String, Object>> byIndex = new TreeMap<>();
    List<Tensor> made = new ArrayList<>();
    try (PointerScope scope = new PointerScope()) {
      int index = 0;
      for (ParamGroup g : groups) {
        double initial = PyValues.toDouble(g.get("initial_accumulator_value"),
            "param group 'initial_accumulator_value'");
        for (Tensor p : g.params()) {
          Map<String, Object> s = new LinkedHashMap<>();
          s.put(LibTorchStates.STEP, 0L);
          try (org.bytedeco.pytorch.Scalar fill = new org.bytedeco.pytorch.Scalar(initial)) {
            Tensor sum = org.bytedeco.pytorch.global.torch.full_like(p, fill).retainReference();
            made.add(sum);
            s.put("sum", sum);
          }
          byIndex.put(index++, s);
        }
      }
      loadState(byIndex);
    } finally {
      made.forEach(Tensor::close);
    }
  }

  @Override
  void release() {
    optimizer.close();
  }

  @Override
  public String toString() {
    return "LibTorchOptimizer(" + kind.pythonName + ", " + groups.size() + " param groups)";
  }
}
