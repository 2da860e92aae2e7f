package io.ckpt4j.cli;

import io.ckpt4j.CheckpointException;
import io.ckpt4j.CheckpointException.Kind;
import io.ckpt4j.libtorch.ScriptModel;
import io.ckpt4j.libtorch.TorchScript;
import io.ckpt4j.load.CheckpointLoader;
import io.ckpt4j.load.Format;
import io.ckpt4j.load.LoadOptions;
import io.ckpt4j.load.LoadedCheckpoint;
import io.ckpt4j.models.ResNet;
import io.ckpt4j.parallel.DataParallel;
import io.ckpt4j.parallel.DataParallelOptions;
import io.ckpt4j.save.TorchSaver;
import io.ckpt4j.value.TensorRef;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Callable;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code ckpt4j run MODEL --input X.pt --output Y.pt [--device D] [--data-parallel]}: inference
 * on one tensor saved by Python, the result saved for Python. MODEL is a TorchScript archive, an
 * AOTInductor package ({@code aoti_compile_and_package}'s .pt2, run by {@link AotiRun}), or
 * {@code --arch resnet18 --weights W} for a state dict (also one saved from DataParallel, a whole
 * pickled model, or a training checkpoint holding one).
 */
@Command(name = "run", mixinStandardHelpOptions = true,
    description = "Run inference: a TorchScript archive, an AOTInductor package (.pt2), or"
        + " --arch resnetN --weights W.")
final class RunCommand implements Callable<Integer> {
  @ArgGroup(exclusive = true, multiplicity = "1")
  ModelSource model;

  static final class ModelSource {
    @Parameters(paramLabel = "MODEL", description = "a TorchScript archive (torch.jit.save) or an"
        + " AOTInductor package (aoti_compile_and_package): code, run only because you name it"
        + " here")
    Path script;

    @ArgGroup(exclusive = false)
    Weights weights;
  }

  static final class Weights {
    @Option(names = "--arch", required = true, description = "resnet18, resnet34, resnet50,"
        + " resnet101 or resnet152")
    String arch;

    @Option(names = "--weights", required = true, paramLabel = "W",
        description = "the state dict (any format ckpt4j reads)")
    Path file;
  }

  @Option(names = "--input", required = true, paramLabel = "X.pt",
      description = "a file holding one tensor (torch.save(tensor)); for a package with several"
          + " inputs, a tuple or list of tensors")
  Path input;

  @Option(names = "--output", required = true, paramLabel = "Y.pt",
      description = "where to save the output tensor, in Python's format (on the CPU)")
  Path output;

  @Option(names = "--device", paramLabel = "D",
      description = "cpu or cuda:N (default: cuda:0 when CUDA is available, else cpu)")
  String device;

  @Option(names = "--data-parallel", description = "split the batch over --devices, as"
      + " nn.DataParallel does")
  boolean dataParallel;

  @Option(names = "--devices", split = ",", paramLabel = "D1,D2",
      description = "devices for --data-parallel (default: every visible CUDA device, else cpu)")
  List<String> devices;

  @Spec CommandSpec spec;

  @Override
  public Integer call() throws CheckpointException {
    if (model.script != null && CheckpointLoader.detect(model.script) == Format.AOTINDUCTOR) {
      if (dataParallel) {
        throw new CheckpointException(Kind.INVALID_VALUE, "--data-parallel runs TorchScript and"
            + " ResNet models; an AOTInductor package runs on one device: leave it out");
      }
      return AotiRun.run(model.script, input, output, device, spec.commandLine().getOut());
    }
    // Before anything is loaded: a MODEL that is not a TorchScript archive (a .pt2 program...).
    if (model.script != null) TorchScript.requireArchive(model.script);
    String target = device != null ? device
        : devices != null && !devices.isEmpty() ? devices.get(0)
        : torch.cuda_is_available() ? "cuda:0" : "cpu";
    PrintWriter out = spec.commandLine().getOut();
    try (LoadedCheckpoint in = CheckpointLoader.load(input,
        LoadOptions.defaults().mapLocation(target));
        NoGradGuard noGrad = new NoGradGuard()) {
      if (!(in.root() instanceof TensorRef ref)) {
        throw new CheckpointException(Kind.INVALID_VALUE,
            input + " must hold one tensor (torch.save(tensor)), not a "
            + io.ckpt4j.value.PythonTypes.name(in.root()));
      }
      Tensor x = in.tensor(ref);
      try (Tensor y = model.script != null ? runScript(x, target) : runResNet(x, target);
          Tensor cpu = y.cpu()) {
        TorchSaver.save(output, cpu);
        out.printf("%s %s -> %s %s%n", input, Arrays.toString(ref.shape()), output,
            Arrays.toString(cpu.sizes().vec().get()));
      }
    }
    out.flush();
    return 0;
  }

  private Tensor runScript(Tensor x, String target) throws CheckpointException {
    try (ScriptModel script = TorchScript.load(model.script, target)) {
      script.eval();
      if (!dataParallel) return script.forwardTensor(x);
      try (DataParallel<ScriptModel> dp = DataParallel.ofScript(script, options(target))) {
        return dp.forward(x);
      }
    }
  }

  private Tensor runResNet(Tensor x, String target) throws CheckpointException {
    try (ResNet resnet = ResNetWeights.load(model.weights.arch, model.weights.file, target)) {
      resnet.eval();
      if (!dataParallel) return resnet.forward(x);
      try (DataParallel<ResNet> dp = DataParallel.of(resnet,
          () -> ResNet.create(resnet.arch(), resnet.numClasses(), resnet.width()).eval(),
          options(target))) {
        return dp.forward(x);
      }
    }
  }

  private DataParallelOptions options(String target) {
    DataParallelOptions options = DataParallelOptions.defaults();
    if (devices != null && !devices.isEmpty()) return options.deviceIds(devices);
    return device != null ? options.deviceIds(List.of(target)) : options;
  }
}
