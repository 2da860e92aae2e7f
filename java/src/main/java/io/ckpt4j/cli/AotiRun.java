package io.ckpt4j.cli;

import io.ckpt4j.CheckpointException;
import io.ckpt4j.CheckpointException.Kind;
import io.ckpt4j.aoti.AotiOptions;
import io.ckpt4j.aoti.ExportedModel;
import io.ckpt4j.load.CheckpointLoader;
import io.ckpt4j.load.LoadOptions;
import io.ckpt4j.load.LoadedCheckpoint;
import io.ckpt4j.save.TorchSaver;
import io.ckpt4j.value.PyTuple;
import io.ckpt4j.value.PythonTypes;
import io.ckpt4j.value.TensorRef;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.bytedeco.pytorch.Tensor;

/**
 * {@code ckpt4j run MODEL.pt2 --input X.pt --output Y.pt [--device D]} for an AOTInductor package:
 * the inputs (one tensor, or a tuple or list of them) go to {@link ExportedModel#forward}, checked
 * against the package's spec; one output is saved as a tensor, several as a tuple, on the CPU.
 */
final class AotiRun {
  private AotiRun() {}

  static int run(Path pkg, Path input, Path output, String device, PrintWriter out)
      throws CheckpointException {
    AotiOptions options = AotiOptions.defaults().device(device);
    try (ExportedModel model = ExportedModel.load(pkg, options);
        LoadedCheckpoint in = CheckpointLoader.load(input,
            LoadOptions.defaults().mapLocation(model.device()))) {
      List<Tensor> inputs = new ArrayList<>();
      for (Object item : items(in.root(), input)) inputs.add(in.tensor((TensorRef) item));
      List<Tensor> results = model.forward(inputs);
      List<Tensor> cpu = new ArrayList<>();
      try {
        for (Tensor r : results) cpu.add(r.cpu());
        TorchSaver.save(output, cpu.size() == 1 ? cpu.get(0) : PyTuple.wrap(cpu.toArray()));
        out.printf("%s %s -> %s %s%n", input, shapesOf(inputs), output, shapesOf(cpu));
      } finally {
        results.forEach(Tensor::close);
        cpu.forEach(Tensor::close);
      }
    }
    out.flush();
    return 0;
  }

  /** The input tensors: the root tensor, or the tensors of a root tuple or list. */
  private static List<?> items(Object root, Path input) throws CheckpointException {
    if (root instanceof TensorRef) return List.of(root);
    if (root instanceof List<?> list && !list.isEmpty()
        && list.stream().allMatch(TensorRef.class::isInstance)) {
      return list;
    }
    throw new CheckpointException(Kind.INVALID_VALUE, input + " must hold one tensor"
        + " (torch.save(x)) or a tuple of tensors (torch.save((x, y))), not a "
        + PythonTypes.name(root));
  }

  private static String shapesOf(List<Tensor> tensors) {
    List<String> shapes = new ArrayList<>();
    for (Tensor t : tensors) shapes.add(Arrays.toString(t.sizes().vec().get()));
    return String.join(" ", shapes);
  }
}
