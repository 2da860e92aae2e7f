package io.ckpt4j.aoti;

import io.ckpt4j.CheckpointException;
import io.ckpt4j.CheckpointException.Kind;
import io.ckpt4j.layout.pt2.AotiDim;
import io.ckpt4j.layout.pt2.AotiInput;
import io.ckpt4j.tensor.ScalarTypes;
import io.ckpt4j.value.DType;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.bytedeco.pytorch.Tensor;

/**
 * Checks a call's tensors against the package's input specification before they reach the
 * compiled code, which (unless {@code AOTI_RUNTIME_CHECK_INPUTS} is set) reads them as the shapes
 * it was compiled for whatever they are. Each mismatch is one {@link Kind#INVALID_VALUE} error
 * naming the input, what the package expects and what it was given.
 */
final class InputCheck {
  private InputCheck() {}

  /** Checks {@code args} against {@code specs}, for the model compiled from {@code file}. */
  static void check(List<AotiInput> specs, List<Tensor> args, int deviceIndex, Path file)
      throws CheckpointException {
    if (args.size() != specs.size()) {
      throw new CheckpointException(Kind.INVALID_VALUE, "AOTInductor model " + file + " takes "
          + specs.size() + " input(s) " + specs + " but was given " + args.size());
    }
    for (int i = 0; i < specs.size(); i++) check(specs.get(i), args.get(i), deviceIndex, file);
  }

  private static void check(AotiInput spec, Tensor t, int deviceIndex, Path file)
      throws CheckpointException {
    String what = "input " + spec.index() + " (" + spec.name() + ") of AOTInductor model " + file;
    if (t == null || t.isNull() || !t.defined()) {
      throw new CheckpointException(Kind.INVALID_VALUE, what + " is not a tensor (null or"
          + " undefined); expected " + spec);
    }
    String dtype = ScalarTypes.dtype(t.scalar_type()).map(DType::pythonName)
        .orElse(t.scalar_type().toString());
    if (spec.dtype() != null && !spec.dtype().equals(dtype)) {
      throw new CheckpointException(Kind.INVALID_VALUE, what + " must be " + spec.dtype()
          + ", not " + dtype + ": convert it with tensor.to(ScalarType)");
    }
    int type = t.is_cuda() ? AotiInput.CUDA : t.is_cpu() ? AotiInput.CPU : -2;
    String device = t.device().str().getString();
    if (spec.deviceType() >= 0 && (spec.deviceType() != type
        || (type == AotiInput.CUDA && deviceIndex >= 0 && t.device().index() != deviceIndex))) {
      String expected = spec.deviceName() + (type == AotiInput.CUDA && deviceIndex >= 0
          ? ":" + deviceIndex : "");
      throw new CheckpointException(Kind.INVALID_VALUE, what + " must be on " + expected
          + ", not " + device + ": move it with tensor.to(device)");
    }
    List<AotiDim> dims = spec.dims();
    long[] sizes = t.sizes().vec().get();
    if (sizes.length != dims.size()) {
      throw new CheckpointException(Kind.INVALID_VALUE, what + " must have " + dims.size()
          + " dimensions " + dims + ", not " + sizes.length + " " + Arrays.toString(sizes));
    }
    for (int d = 0; d < sizes.length; d++) {
      AotiDim dim = dims.get(d);
      if (!dim.accepts(sizes[d])) {
        throw new CheckpointException(Kind.INVALID_VALUE, what + " has size " + sizes[d]
            + " in dimension " + d + " " + Arrays.toString(sizes) + ", where the package takes "
            + (dim.isDynamic() ? "a size in " + dim + " (a dynamic dimension, torch.export.Dim)"
            : dim.size() + " (a static dimension)") + "; expected " + dims);
      }
    }
  }
}
