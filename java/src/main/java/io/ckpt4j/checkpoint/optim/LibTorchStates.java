package io.ckpt4j.checkpoint.optim;

import io.ckpt4j.CheckpointException;
import io.ckpt4j.checkpoint.optim.LibTorchOptimizer.Kind;
import io.ckpt4j.value.PyValues;
import io.ckpt4j.value.PythonTypes;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.bytedeco.pytorch.IValue;
import org.bytedeco.pytorch.InputArchive;
import org.bytedeco.pytorch.MemoryFormatOptional;
import org.bytedeco.pytorch.OutputArchive;
import org.bytedeco.pytorch.StringVector;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.Tuple;

/**
 * Python's optimizer state in LibTorch's optimizer archive layout
 * ({@code torch::optim::serialize}), and back:
 * <pre>
 * pytorch_version        "1.5.0"
 * state/KEY/NAME         per parameter: step (int64), the state tensors (momentum_buffer, ...)
 * param_groups/param_groups/size, param_groups/param_groups/G/params/size,
 * param_groups/param_groups/G/params/I (KEY, a string), param_groups/param_groups/G/options/NAME
 * </pre>
 * A KEY is any number LibTorch's {@code std::stoull} reads: LibTorch writes its tensors'
 * addresses, and only matches the group lists' keys with the state's when it loads, so ckpt4j
 * writes Python's parameter indices. Runs inside the caller's {@code PointerScope}.
 */
final class LibTorchStates {
  private static final String PYTORCH_VERSION = "pytorch_version";
  /** The version string LibTorch's optimizer archives carry (torch::optim::serialize). */
  private static final String ARCHIVE_VERSION = "1.5.0";
  static final String BETAS = "betas";
  static final String STEP = "step";
  private static final String STATE = "state";
  private static final String PARAM_GROUPS = "param_groups";
  private static final String PARAMS = "params/";
  private static final String SIZE = "size";
  private static final String OPTIONS = "options";

  private final Kind kind;
  private final List<ParamGroup> groups;
  private final List<Tensor> params;

  LibTorchStates(Kind kind, List<ParamGroup> groups, List<Tensor> params) {
    this.kind = kind;
    this.groups = groups;
    this.params = params;
  }

  /**
   * The archive LibTorch's {@code Optimizer::load} reads: the state of the parameters in
   * {@code byIndex} (an empty one is left out, so LibTorch keeps what it has; none at all hands
   * over the options only) and every group's options.
   */
  OutputArchive archive(Map<Integer, ? extends Map<String, Object>> byIndex)
      throws CheckpointException {
    OutputArchive out = new OutputArchive();
    out.write(PYTORCH_VERSION, new IValue(ARCHIVE_VERSION));
    OutputArchive state = new OutputArchive();
    for (Map.Entry<Integer, ? extends Map<String, Object>> e : byIndex.entrySet()) {
      if (e.getValue().isEmpty()) continue;
      state.write(Integer.toString(e.getKey()), stateArchive(e.getKey(), e.getValue()));
    }
    out.write(STATE, state);
    OutputArchive groupsOut = new OutputArchive();
    groupsOut.write(PARAM_GROUPS + "/" + SIZE, OptimArchives.sizeTensor(groups.size()));
    long index = 0;
    for (int g = 0; g < groups.size(); g++) {
      OutputArchive group = new OutputArchive();
      int size = groups.get(g).params().size();
      group.write(PARAMS + SIZE, OptimArchives.sizeTensor(size));
      for (int i = 0; i < size; i++) group.write(PARAMS + i, new IValue(Long.toString(index++)));
      group.write(OPTIONS, optionsArchive(groups.get(g).options(), "param group " + g));
      groupsOut.write(PARAM_GROUPS + "/" + g, group);
    }
    out.write(PARAM_GROUPS, groupsOut);
    return out;
  }

  private OutputArchive optionsArchive(Map<String, Object> options, String where)
      throws CheckpointException {
    OutputArchive archive = new OutputArchive();
    for (String k : kind.numbers) {
      archive.write(k, new IValue(PyValues.toDouble(options.get(k), where + " '" + k + "'")));
    }
    if (kind.hasBetas()) {
      List<Double> betas = PyValues.toDoubles(options.get(BETAS), where + " 'betas'");
      archive.write(BETAS, new IValue(Tuple.create(new IValue(betas.get(0)),
          new IValue(betas.get(1)))));
    }
    for (String k : kind.flags) {
      archive.write(k, new IValue(PyValues.toBoolean(options.get(k), where + " '" + k + "'")));
    }
    return archive;
  }

  private OutputArchive stateArchive(int index, Map<String, Object> saved)
      throws CheckpointException {
    Tensor param = params.get(index);
    OutputArchive archive = new OutputArchive();
    if (kind.hasStep()) {
      if (!saved.containsKey(STEP)) throw missing(index, STEP);
      archive.write(STEP, new IValue(Math.round(OptimMath.stepValue(saved.get(STEP)))));
    }
    for (String name : kind.tensors) {
      Object v = saved.get(name);
      if (v == null) continue;
      if (!(v instanceof Tensor t)) {
        throw new CheckpointException(CheckpointException.Kind.INVALID_VALUE,
            "the optimizer state '" + name + "' of parameter " + index
            + " must be a tensor, not " + PythonTypes.name(v));
      }
      StateDictFit.checkShape(index, name, t, param);
      archive.write(name, new IValue(t.to(param.device(), param.scalar_type(), false, true,
          new MemoryFormatOptional())));
    }
    for (String required : requiredState()) {
      if (!saved.containsKey(required)) throw missing(index, required);
    }
    return archive;
  }

  private List<String> requiredState() {
    return switch (kind) {
      case SGD -> List.of();
      case ADAM, ADAMW -> List.of("exp_avg", "exp_avg_sq");
      case RMSPROP -> List.of("square_avg");
      case ADAGRAD -> List.of("sum");
    };
  }

  private CheckpointException missing(int index, String key) {
    return new CheckpointException(CheckpointException.Kind.STATE_DICT_MISMATCH,
        "the optimizer state of parameter " + index + " has no '" + key
        + "': it was not saved by torch.optim." + kind.pythonName);
  }

  /**
   * The state in an archive LibTorch's {@code Optimizer::save} wrote, by Python's parameter
   * index, each in Python's order ({@code step} first, a 0-dim float32 tensor). The tensors are
   * new references the caller owns (also when this fails: {@code made} has them).
   */
  TreeMap<Integer, LinkedHashMap<String, Object>> read(InputArchive in, List<Tensor> made) {
    Map<String, Integer> indexOf = new HashMap<>();
    InputArchive groupsIn = new InputArchive();
    in.read(PARAM_GROUPS, groupsIn);
    int index = 0;
    for (int g = 0; g < groups.size(); g++) {
      InputArchive group = new InputArchive();
      groupsIn.read(PARAM_GROUPS + "/" + g, group);
      for (int i = 0; i < groups.get(g).params().size(); i++) {
        IValue key = new IValue();
        group.read(PARAMS + i, key);
        indexOf.put(key.toStringRef().getString(), index++);
      }
    }
    TreeMap<Integer, LinkedHashMap<String, Object>> byIndex = new TreeMap<>();
    InputArchive stateIn = new InputArchive();
    in.read(STATE, stateIn);
    StringVector keys = stateIn.keys();
    for (long k = 0; k < keys.size(); k++) {
      String key = keys.get(k).getString();
      Integer target = indexOf.get(key);
      if (target == null) continue; // state of a tensor no longer in a group: Python drops it
      InputArchive paramState = new InputArchive();
      stateIn.read(key, paramState);
      byIndex.put(target, readState(paramState, made));
    }
    return byIndex;
  }

  private LinkedHashMap<String, Object> readState(InputArchive paramState, List<Tensor> made) {
    LinkedHashMap<String, Object> out = new LinkedHashMap<>();
    if (kind.hasStep()) {
      IValue step = OptimArchives.tryRead(paramState, STEP);
      if (step != null) out.put(STEP, kept(OptimMath.stepTensor(step.toInt()), made));
    }
    for (String name : kind.tensors) {
      IValue v = OptimArchives.tryRead(paramState, name);
      // a new reference: the IValue's tensor goes with the archive
      if (v != null && v.isTensor()) out.put(name, kept(new Tensor(v.toTensor()), made));
    }
    return out;
  }

  /** A reference that outlives the caller's pointer scope; recorded in {@code made}. */
  private static Tensor kept(Tensor t, List<Tensor> made) {
    made.add(t.retainReference());
    return t;
  }
}
