package io.ckpt4j.cli;

import io.ckpt4j.CheckpointException;
import io.ckpt4j.CheckpointException.Kind;
import io.ckpt4j.load.CheckpointLoader;
import io.ckpt4j.load.LoadOptions;
import io.ckpt4j.load.LoadedCheckpoint;
import io.ckpt4j.models.ResNet;
import io.ckpt4j.parallel.DataParallel;
import io.ckpt4j.parallel.DataParallelOptions;
import io.ckpt4j.save.SaveOptions;
import io.ckpt4j.save.TorchSaver;
import io.ckpt4j.statedict.LoadStateDictOptions;
import io.ckpt4j.statedict.StateDict;
import io.ckpt4j.value.TensorRef;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * The second half of {@code ckpt4j demo}: the save/load tutorial, step by step, on a small ResNet
 * that Python saved every way (resources io/ckpt4j/demo/tutorial): state_dict and whole model,
 * the four single/multi-device cases with every remedy for DataParallel's {@code module.} keys,
 * and Java saving for Python. Each step checks its logits against Python's.
 */
final class TutorialDemo {
  static final List<String> FILES = List.of("weights_single.pt", "weights_multi.pt",
      "weights_multi_module.pt", "whole_single.pt", "whole_multi.pt", "expected.safetensors");
  private static final String ARCH = "resnet18";
  private static final long NUM_CLASSES = 10;
  private static final long WIDTH = 4;
  private static final double TOLERANCE = 1e-4;

  private final Path dir;
  private final PrintWriter out;
  private final String one;
  private final List<String> many;
  private LoadedCheckpoint expected;
  private Tensor input;
  private Tensor logits;

  TutorialDemo(Path dir, PrintWriter out) {
    this.dir = dir;
    this.out = out;
    boolean cuda = torch.cuda_is_available();
    this.one = cuda ? "cuda:0" : "cpu";
    this.many = cuda && torch.cuda_device_count() >= 2 ? List.of("cuda:0", "cuda:1")
        : List.of("cpu", "cpu");
  }

  void run() throws CheckpointException {
    try (LoadedCheckpoint e = CheckpointLoader.load(dir.resolve("expected.safetensors"),
        LoadOptions.defaults()); NoGradGuard noGrad = new NoGradGuard()) {
      expected = e;
      Map<?, ?> root = (Map<?, ?>) e.root();
      input = e.tensor((TensorRef) root.get("input"));
      logits = e.tensor((TensorRef) root.get("logits"));
      out.printf("%n6. The tutorial, on a small %s (torchvision's names) that Python saved every"
          + " way%n   one device: %s; many devices: %s%s%n", ARCH, one, many,
          torch.cuda_is_available() ? "" : " (CPU replicas stand in for GPUs)");
      stateDictAndWholeModel();
      fourCases();
      javaSavesForPython();
    }
    new TrainingDemo(dir, out).run(ARCH, NUM_CLASSES, WIDTH);
  }

  private void stateDictAndWholeModel() throws CheckpointException {
    step("a) Save/load state_dict: model.load_state_dict(torch.load(PATH))");
    try (StateDict sd = weights("weights_single.pt"); ResNet model = model(one)) {
      sd.loadInto(model.module());
      check(model, "     %d keys loaded strictly", sd.size());
    }
    step("b) Save/load the entire model (torch.save(model)): read as inert objects, nothing runs");
    try (StateDict sd = wholeModel("whole_single.pt"); ResNet model = model(one)) {
      sd.loadInto(model.module());
      check(model, "     the pickled reference_resnet.ResNet gives the same %d keys", sd.size());
    }
  }

  private void fourCases() throws CheckpointException {
    step("c) Saved on one device, loaded on one");
    try (StateDict sd = weights("weights_single.pt"); ResNet model = model(one)) {
      sd.loadInto(model.module());
      check(model, "     plain load");
    }
    step("d) Saved on one device, loaded on many: wrap in DataParallel after loading");
    try (StateDict sd = weights("weights_single.pt"); ResNet model = model(many.get(0))) {
      sd.loadInto(model.module());
      try (DataParallel<ResNet> dp = wrap(model, many); StateDict wrapped = StateDict.of(dp)) {
        check(dp, "     the batch is split over %s; its state_dict keys now read '%s'", many,
            wrapped.keys().iterator().next());
      }
    }
    step("e) Saved on many devices (keys start with 'module.'), loaded on one");
    try (StateDict sd = weights("weights_multi.pt"); ResNet model = model(one)) {
      try {
        sd.loadInto(model.module());
      } catch (CheckpointException e) {
        out.println("     without a remedy: " + e.getMessage());
      }
    }
    try (StateDict sd = weights("weights_multi_module.pt"); ResNet model = model(one)) {
      sd.loadInto(model.module());
      check(model, "     remedy 1, the saver wrote model.module.state_dict()");
    }
    try (StateDict sd = weights("weights_multi.pt"); ResNet model = model(one);
        DataParallel<ResNet> dp = wrap(model, List.of(one))) {
      sd.loadInto(dp);
      check(dp.module(), "     remedy 2, wrap in DataParallel to load, then use .module()");
    }
    try (StateDict sd = weights("weights_multi.pt"); StateDict stripped = sd.stripPrefix("module.");
        ResNet model = model(one); ResNet fixed = model(one)) {
      stripped.loadInto(model.module());
      check(model, "     remedy 3, strip 'module.' from every key");
      sd.loadInto(fixed.module(), LoadStateDictOptions.defaults().fixModulePrefix(true));
      check(fixed, "     (or let the loader do it: fixModulePrefix(true))");
    }
    step("f) Saved on many devices, loaded on many");
    try (StateDict sd = wholeModel("whole_multi.pt"); ResNet model = model(many.get(0));
        DataParallel<ResNet> dp = wrap(model, many)) {
      sd.loadInto(dp);
      check(dp, "     torch.save(nn.DataParallel(model)) into DataParallel over %s", many);
    }
  }

  private void javaSavesForPython() throws CheckpointException {
    step("g) Java saves for Python: torch.save(model.module.state_dict(), PATH)");
    Path saved = dir.resolve("saved_by_java.pt");
    try (StateDict sd = weights("weights_multi.pt"); ResNet model = model(one);
        DataParallel<ResNet> dp = wrap(model, List.of(one))) {
      sd.loadInto(dp);
      try (StateDict plain = StateDict.of(dp.module().module())) {
        TorchSaver.save(saved, plain.toPython(), SaveOptions.defaults().mapLocation("cpu"));
      }
    }
    try (StateDict sd = weights(saved.getFileName().toString()); ResNet model = model(one)) {
      sd.loadInto(model.module());
      check(model, "     wrote %s (zip, 64-byte aligned, weights_only-safe); loads back", saved
          .getFileName());
    }
    out.println("     (mvn verify has Python torch.load what Java saves, and compare logits)");
  }

  private StateDict weights(String file) throws CheckpointException {
    try (LoadedCheckpoint ckpt = CheckpointLoader.load(dir.resolve(file),
        LoadOptions.defaults().mapLocation(one))) {
      return StateDict.from(ckpt);
    }
  }

  private StateDict wholeModel(String file) throws CheckpointException {
    try (LoadedCheckpoint ckpt = CheckpointLoader.load(dir.resolve(file),
        LoadOptions.defaults().mapLocation(one).inertObjects(true))) {
      return StateDict.fromWholeModule(ckpt);
    }
  }

  private static ResNet model(String device) throws CheckpointException {
    return ResNet.create(ARCH, NUM_CLASSES, WIDTH).to(device).eval();
  }

  private static DataParallel<ResNet> wrap(ResNet model, List<String> devices)
      throws CheckpointException {
    return DataParallel.of(model, () -> ResNet.create(ARCH, NUM_CLASSES, WIDTH).eval(),
        DataParallelOptions.defaults().deviceIds(devices));
  }

  private void check(ResNet model, String format, Object... args) throws CheckpointException {
    try (Tensor x = input.to(model.module().parameters().get(0).device(), input.scalar_type());
        Tensor y = model.forward(x)) {
      report(y, format, args);
    }
  }

  private void check(DataParallel<ResNet> dp, String format, Object... args)
      throws CheckpointException {
    try (Tensor x = input.to(new org.bytedeco.pytorch.Device(dp.deviceIds().get(0)),
        input.scalar_type()); Tensor y = dp.forward(x)) {
      report(y, format, args);
    }
  }

  private void report(Tensor y, String format, Object... args) throws CheckpointException {
    try (Tensor cpu = y.cpu(); Tensor diff = cpu.sub(logits).abs().max()) {
      double d = diff.item_double();
      out.printf(format + " -> logits match Python's (max abs diff %.1e)%n",
          concat(args, d));
      if (!(d <= TOLERANCE)) {
        throw new CheckpointException(Kind.INVALID_TENSOR,
            "demo: logits differ from Python's by " + d);
      }
    }
  }

  private static Object[] concat(Object[] args, Object last) {
    Object[] all = java.util.Arrays.copyOf(args, args.length + 1);
    all[args.length] = last;
    return all;
  }

  private void step(String title) {
    out.println("   " + title);
  }
}
