package io.ckpt4j.aoti;

import io.ckpt4j.CheckpointException;
import io.ckpt4j.CheckpointException.Kind;
import io.ckpt4j.layout.pt2.AotiConstant;
import io.ckpt4j.layout.pt2.AotiPackage;
import io.ckpt4j.statedict.IncompatibleKeys;
import io.ckpt4j.statedict.LoadErrors;
import io.ckpt4j.statedict.ShapeMismatch;
import io.ckpt4j.statedict.StateDict;
import io.ckpt4j.tensor.ScalarTypes;
import io.ckpt4j.value.DType;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.pytorch.AOTIModelContainerRunner;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.StringTensorUMap;
import org.bytedeco.pytorch.Tensor;

/**
 * New weights for a loaded package, as Python's {@code load_constants(sd, check_full_update=...)}
 * gives them, with {@code load_state_dict}'s checks first: a state_dict's keys matched to the
 * package's constants by their original names (a wrapper prefix every key carries removed), shapes
 * and dtypes compared, missing and unexpected keys reported; then the runner's
 * {@code update_constant_buffer}, which copies the tensors in (and, with runtime constant
 * folding, computes the folded constants again before the next call).
 */
final class WeightSwap {
  /** What the refusal of a package that cannot take new weights tells to compile with. */
  static final String SWAPPABLE_CONFIG =
      "inductor_configs={\"aot_inductor.use_runtime_constant_folding\": True}";

  private WeightSwap() {}

  static IncompatibleKeys apply(AOTIModelContainerRunner runner, AotiPackage pkg,
      StateDict stateDict, boolean strict, String device, Path source) throws CheckpointException {
    String model = "AOTInductor model " + source;
    if (!pkg.runtimeConstantFolding()) {
      throw new CheckpointException(Kind.UNSUPPORTED_FORMAT, model + " was compiled without"
          + " runtime constant folding, so Inductor may have folded weights into its code and"
          + " new ones would be partly ignored: compile it with aoti_compile_and_package(ep, "
          + SWAPPABLE_CONFIG + ") to swap weights");
    }
    Map<String, AotiConstant> byFqn = new LinkedHashMap<>();
    for (AotiConstant c : pkg.constants()) {
      if (!c.fromFolded()) byFqn.put(c.fqn(), c);
    }
    StateDict sd = unwrapped(stateDict);
    try (StringTensorUMap update = new StringTensorUMap();
        Device target = new Device(device)) {
      List<String> missing = new ArrayList<>();
      List<String> unexpected = new ArrayList<>();
      List<ShapeMismatch> shapes = new ArrayList<>();
      List<String> dtypes = new ArrayList<>();
      for (String fqn : byFqn.keySet()) {
        if (!sd.containsKey(fqn)) missing.add(fqn);
      }
      List<Tensor> made = new ArrayList<>();
      try {
        for (String key : sd.keys()) {
          AotiConstant c = byFqn.get(key);
          if (c == null) {
            unexpected.add(key);
            continue;
          }
          Tensor t = sd.get(key);
          long[] found = t.sizes().vec().get();
          if (!Arrays.equals(found, c.shape())) {
            shapes.add(new ShapeMismatch(key, c.shape(), found));
            continue;
          }
          String dtype = ScalarTypes.dtype(t.scalar_type()).map(DType::pythonName).orElse("?");
          if (!dtype.equals(c.dtype())) {
            dtypes.add("\"" + key + "\" " + dtype + " in checkpoint, " + c.dtype() + " in package");
            continue;
          }
          Tensor placed = t.to(target, t.scalar_type()).contiguous();
          made.add(placed);
          update.put(new BytePointer(c.name()), placed);
        }
        IncompatibleKeys keys = new IncompatibleKeys(missing, unexpected, shapes);
        if (!shapes.isEmpty() || !dtypes.isEmpty()
            || (strict && (!missing.isEmpty() || !unexpected.isEmpty()))) {
          throw new CheckpointException(Kind.STATE_DICT_MISMATCH,
              message(model, keys, dtypes, strict));
        }
        runner.update_constant_buffer(update, false, missing.isEmpty());
        return keys;
      } finally {
        made.forEach(Tensor::close);
      }
    } finally {
      if (sd != stateDict) sd.close();
    }
  }

  /** {@code stateDict} without the wrapper prefixes all its keys carry (itself when none). */
  private static StateDict unwrapped(StateDict stateDict) throws CheckpointException {
    StateDict sd = stateDict;
    for (String prefix : stateDict.detectPrefixes()) {
      StateDict stripped = sd.stripPrefix(prefix);
      if (sd != stateDict) sd.close();
      sd = stripped;
    }
    return sd;
  }

  private static String message(String model, IncompatibleKeys keys, List<String> dtypes,
      boolean strict) {
    List<String> parts = new ArrayList<>();
    if (strict && !keys.missingKeys().isEmpty()) {
      parts.add("missing_keys " + LoadErrors.list(keys.missingKeys()));
    }
    if (strict && !keys.unexpectedKeys().isEmpty()) {
      parts.add("unexpected_keys " + LoadErrors.list(keys.unexpectedKeys()));
    }
    for (ShapeMismatch m : keys.shapeMismatches()) {
      parts.add("size mismatch \"" + m.key() + "\" " + Arrays.toString(m.found())
          + " in checkpoint, " + Arrays.toString(m.expected()) + " in package");
    }
    if (!dtypes.isEmpty()) parts.add("dtype mismatch " + String.join(", ", dtypes));
    String hint = !keys.shapeMismatches().isEmpty() || !dtypes.isEmpty()
        ? "the state_dict is not of the model the package was compiled from (convert dtypes with"
          + " StateDict.cast)"
        : !keys.missingKeys().isEmpty()
        ? "give every constant a tensor, or pass strict=false to keep the package's values for"
          + " the missing ones"
        : "the compiled graph does not read those keys (an inference graph drops buffers such as"
          + " num_batches_tracked): pass strict=false to skip them";
    return "state_dict does not fit " + model + ": " + String.join("; ", parts) + ". " + hint;
  }
}
