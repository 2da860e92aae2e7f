package io.ckpt4j.parallel;

import static io.ckpt4j.parallel.ParallelFixtures.assertClose;
import static io.ckpt4j.parallel.ParallelFixtures.atol;
import static io.ckpt4j.parallel.ParallelFixtures.io;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.ckpt4j.libtorch.ScriptModel;
import io.ckpt4j.libtorch.TorchScript;
import io.ckpt4j.nn.TorchModel;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Device;
import org.bytedeco.pytorch.Module;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.StringTensorDict;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * DataParallel on the CUDA devices of the machine (every visible one, as Python's default
 * {@code device_ids}); skipped where LibTorch sees none (the CPU build of the presets, or no GPU).
 */
class CudaDataParallelTest {
  private List<String> gpus;

  @BeforeEach
  void needsCuda() {
    assumeTrue(io.ckpt4j.tensor.Devices.cudaDeviceCount() > 0, "no CUDA device visible to LibTorch");
    gpus = ParallelDevices.visible();
  }

  private static SmallNet onFirstGpu() throws Exception {
    SmallNet net = ParallelFixtures.model();
    try (Device cuda0 = new Device("cuda:0")) {
      net.module().to(cuda0, false);
    }
    return net;
  }

  @Test
  void everyVisibleGpuRunsAReplicaOnItsOwnDevice() throws Exception {
    SmallNet net = onFirstGpu();
    List<String> seen = Collections.synchronizedList(new ArrayList<>());
    class Where implements TorchModel {
      final SmallNet inner;

      Where(SmallNet inner) {
        this.inner = inner;
      }

      @Override
      public Module module() {
        return inner.module();
      }

      @Override
      public Tensor forward(Tensor input) {
        String device = ModuleState.deviceOf(input);
        try (StringTensorDict params = inner.module().named_parameters(true)) {
          for (long i = 0; i < params.size(); i++) {
            assertEquals(device, ModuleState.deviceOf(params.get(i).value()),
                "a replica computes with parameters on its own device");
          }
        }
        seen.add(device);
        return inner.forward(input);
      }
    }
    try (DataParallel<Where> dp = DataParallel.of(new Where(net), () -> new Where(new SmallNet()));
        NoGradGuard noGrad = new NoGradGuard();
        Tensor y = dp.forward(io("input"))) {
      assertEquals(gpus, dp.deviceIds());
      List<String> expected = gpus.subList(0, (int) Math.min(gpus.size(), io("input").size(0)));
      assertEquals(List.copyOf(expected), seen.stream().sorted().toList());
      assertEquals("cuda:0", ModuleState.deviceOf(y), "gathered on output_device");
      assertClose(io("output"), y, atol(), "output");
    }
  }

  @Test
  void gradientsReachTheModelOnTheFirstGpu() throws Exception {
    SmallNet net = onFirstGpu();
    try (DataParallel<SmallNet> dp = DataParallel.of(net, SmallNet::new);
        PointerScope scope = new PointerScope()) {
      Tensor x = io("input").clone().requires_grad_(true);
      Tensor weight;
      try (Device cuda0 = new Device("cuda:0")) {
        weight = io("loss_weight").to(cuda0, io("loss_weight").scalar_type());
      }
      dp.forward(x).mul(weight).sum().backward();
      try (StringTensorDict params = net.module().named_parameters(true)) {
        for (String name : ParallelFixtures.strings("parameters")) {
          assertClose(io("grad." + name), params.get(name).grad(), atol(), "grad of " + name);
        }
      }
      assertClose(io("grad.input"), x.grad(), atol(), "grad of the input");
    }
  }

  @Test
  void aScriptModuleRunsOnEveryGpu() throws Exception {
    try (ScriptModel model = TorchScript.load(ParallelFixtures.dir().resolve("model_script.pt"),
            "cuda:0");
        DataParallel<ScriptModel> dp = DataParallel.ofScript(model);
        NoGradGuard noGrad = new NoGradGuard();
        Tensor y = dp.forward(io("input"))) {
      assertEquals("cuda:0", ModuleState.deviceOf(y));
      assertClose(io("output"), y, atol(), "output");
      assertTrue(dp.deviceIds().size() == gpus.size());
    }
  }
}
